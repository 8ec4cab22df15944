"""Regenerate tests/golden/seeds.json: the seed documents' computations run in the real TensorFlow.

    python -m pip install -e '.[parity]' && python tools/make_seed_golden.py

The inputs are lossgrad.cli's (one definition for the demo, the tests and this script); the file
records them with the framework versions, so tests/test_seeds.py needs only NumPy. Keys are the
demo's (lossgrad.cli.Shown.key). Everything is float32, TensorFlow's default for Python numbers.

``--seeds DIR`` (the project's shared seed documents, by default ``../shared/seeds`` beside the
repository) also copies seed 000's two GradientTape programs, verbatim, into the file's
``sources``: tests/test_seeds.py runs them unchanged under ``lossgrad.compat.tf`` (and, live,
under TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from lossgrad import cli

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "seeds.json"
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_000 = "000_ef1bd61dd657d0cb.txt"


def seed_000_programs(text: str) -> list[str]:
    """Seed 000's code, verbatim: each block from its ``x = tf.random.normal`` line to the line
    that prints the gradient of b (the text around them is the blog page, not code)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("x = tf.random.normal")]
    ends = [i for i, line in enumerate(lines) if line.startswith('print("Gradients of b')]
    if len(starts) != 2 or len(ends) != 2:
        raise SystemExit(f"{SEED_000}: expected two GradientTape programs, found {len(starts)}")
    return ["\n".join(lines[start:end + 1]) + "\n" for start, end in zip(starts, ends)]


def seed_001(tf) -> dict:
    """Seed 001's TF1 code in TF2 eager form (tf.log is tf.math.log)."""
    labels = tf.constant(cli.SEED_001_LABELS, tf.float32)
    logits = tf.constant(cli.SEED_001_LOGITS, tf.float32)
    scaled = tf.nn.softmax(logits)
    return {
        "scaled": scaled,
        "scaled2": tf.nn.softmax(scaled),
        "rel1": tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        "rel2": tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=scaled),
        "rel3": -tf.reduce_sum(labels * tf.math.log(scaled), 1),
    }


def seed_002(tf) -> dict:
    """The softmax Jacobian by TensorFlow's own autodiff."""
    logits = tf.constant(cli.SEED_002_LOGITS, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        p = tf.nn.softmax(logits)
    return {"jacobian": tape.jacobian(p, logits)}


def seed_003(keras) -> dict:
    """Seed 003 as printed: SparseCategoricalCrossentropy() on probabilities, to_categorical."""
    y_true = np.array(cli.SEED_003_LABELS)
    y_pred = np.array(cli.SEED_003_PROBS, dtype=np.float32)
    return {
        "scce": keras.losses.SparseCategoricalCrossentropy()(y_true, y_pred),
        "one_hot": keras.utils.to_categorical(y_true, num_classes=3),
    }


def seed_000(tf) -> dict:
    """Seed 000's two GradientTape computations, on the fixed inputs."""
    given = cli.seed_000_inputs()
    x = tf.constant(given["x"], tf.float32)
    w = tf.Variable(given["w"].astype(np.float32))
    b = tf.Variable(given["b"].astype(np.float32))
    y = tf.constant(given["y"])
    with tf.GradientTape(persistent=True) as tape:
        prob = tf.nn.softmax(x @ w + b, axis=1)
        mse = tf.reduce_mean(tf.losses.MSE(tf.one_hot(y, depth=3), prob))
        logits = x @ w + b
        ce = tf.reduce_mean(tf.losses.categorical_crossentropy(
            tf.one_hot(y, depth=3), logits, from_logits=True))
    out = {}
    for key, loss in (("mse", mse), ("ce", ce)):
        dw, db = tape.gradient(loss, [w, b])
        out.update({f"{key}_loss": loss, f"{key}_dw": dw, f"{key}_db": db})
    return out


def compute(seed_dir: Path | None = None) -> dict:
    """Every golden number, as nested lists of Python floats, with the versions that made them
    (and seed 000's programs, read from ``seed_dir``, when given)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter, not errors
    import keras
    import tensorflow as tf

    values = {**seed_001(tf), **seed_002(tf), **seed_003(keras), **seed_000(tf)}
    return {
        "generator": "tools/make_seed_golden.py",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "numpy": np.__version__},
        "dtype": "float32",
        "inputs": {key: value.tolist() for key, value in cli.seed_000_inputs().items()},
        "values": {key: np.asarray(value).astype(np.float64).tolist()
                   for key, value in values.items()},
    } | ({} if seed_dir is None else {"sources": {"000": {
        "document": SEED_000,
        "programs": seed_000_programs((seed_dir / SEED_000).read_text(encoding="utf-8"))}}})


def dumps(obj, indent: str = "") -> str:
    """JSON with one line per leaf (an array stays on its line): readable and diffable."""
    if not isinstance(obj, dict):
        return json.dumps(obj, ensure_ascii=False)
    inner = indent + "  "
    items = [f"{inner}{json.dumps(key)}: {dumps(value, inner)}" for key, value in obj.items()]
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=GOLDEN, help=f"(default {GOLDEN})")
    parser.add_argument("--seeds", type=Path, default=SEED_DIR,
                        help=f"the seed documents' folder (default {SEED_DIR})")
    args = parser.parse_args(argv)
    golden = compute(args.seeds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(golden) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (TensorFlow {golden['versions']['tensorflow']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
