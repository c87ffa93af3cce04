"""Writes a small TensorFlow 1 checkpoint (a tensor bundle) and the values it holds, for
tests/models.rs: the Rust reader must give back every variable exactly.

    pip install tensorflow-cpu
    python3 scripts/parity/tf_checkpoint.py tests/fixtures/tf_checkpoint

Variables are named like musicnn's (`batch_normalization_3/gamma`, `dense/kernel`), with
enough of them (40) that the index table has several restart points, and shapes from a
scalar to a 4-d convolution kernel. Values come from a fixed seed.
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    shapes = {"dense/kernel": (5, 3), "dense/bias": (3,), "conv2d/kernel": (2, 3, 1, 4), "step": ()}
    for i in range(12):
        for part in ("beta", "gamma", "moving_mean"):
            shapes[f"batch_normalization_{i}/{part}"] = (i + 1,)
    values = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.Variable(value, name=name) for name, value in values.items()]
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            # musicnn's prefix is its folder with an empty name: files `.index` and `.data-...`.
            saver.save(session, os.path.join(out, ""), write_meta_graph=False)
    os.remove(os.path.join(out, "checkpoint"))
    expected = {name: {"shape": list(v.shape), "values": [float(x) for x in v.reshape(-1)]} for name, v in values.items()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
