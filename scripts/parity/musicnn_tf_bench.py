"""TensorFlow's musicnn on the given audio files, for `cargo bench --bench musicnn` to compare
against: the MSD network's penultimate layer of every 3 s patch (no overlap), the graph built
and the checkpoint restored once, each file loaded with librosa at 16 kHz (musicnn's own
batch_data, with its float16 cast dropped). Prints `tensorflow_seconds S` (wall time for
all files, loading included) and `tensorflow_load_seconds S` (building the graph and
restoring the checkpoint, once).

Threads: MER_BENCH_THREADS (default 2) for TensorFlow's intra- and inter-op pools.

    pip install tensorflow-cpu tf_keras librosa && pip install --no-deps musicnn==0.1.0
    TF_USE_LEGACY_KERAS=1 python3 scripts/parity/musicnn_tf_bench.py FILE...
"""

import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import configuration as config  # noqa: E402
from musicnn import models  # noqa: E402


def batch(path, n_frames):
    audio, _ = librosa.load(path, sr=config.SR)
    rep = librosa.feature.melspectrogram(
        y=audio, sr=config.SR, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE, n_mels=config.N_MELS
    ).T
    rep = np.log10(10000 * rep.astype(np.float32) + 1)
    starts = range(0, rep.shape[0] - n_frames + 1, n_frames)
    return np.stack([rep[s : s + n_frames] for s in starts])


def main(files):
    threads = int(os.environ.get("MER_BENCH_THREADS", "2"))
    tf.compat.v1.disable_eager_execution()
    start = time.perf_counter()
    n_frames = librosa.time_to_frames(3, sr=config.SR, n_fft=config.FFT_SIZE, hop_length=config.FFT_HOP) + 1
    x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
    is_training = tf.compat.v1.placeholder(tf.bool)
    outputs = models.define_model(x, is_training, "MSD_musicnn", len(config.MSD_LABELS))
    penultimate = outputs[-1]
    session_config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
    )
    sess = tf.compat.v1.Session(config=session_config)
    tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(models.__file__), "MSD_musicnn") + "/")
    loaded = time.perf_counter()
    for path in files:
        embedding = sess.run(penultimate, feed_dict={x: batch(path, n_frames), is_training: False})
        assert np.isfinite(embedding).all()
    done = time.perf_counter()
    print(f"tensorflow_load_seconds {loaded - start:.3f}")
    print(f"tensorflow_seconds {done - loaded:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
