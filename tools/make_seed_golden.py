"""Regenerate tests/golden/seeds.json: the seed documents' computations run in the real TensorFlow.

    python -m pip install -e '.[parity]' && python tools/make_seed_golden.py

The inputs are lossgrad.cli's (one definition for the demo, the tests and this script); the file
records them with the framework versions, so tests/test_seeds.py needs only NumPy. Keys are the
demo's (lossgrad.cli.Shown.key). Everything is float32, TensorFlow's default for Python numbers.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from lossgrad import cli

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "seeds.json"


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


def compute() -> dict:
    """Every golden number, as nested lists of Python floats, with the versions that made them."""
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
    }


def dumps(obj, indent: str = "") -> str:
    """JSON with one line per leaf (an array stays on its line): readable and diffable."""
    if not isinstance(obj, dict):
        return json.dumps(obj)
    inner = indent + "  "
    items = [f"{inner}{json.dumps(key)}: {dumps(value, inner)}" for key, value in obj.items()]
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=GOLDEN, help=f"(default {GOLDEN})")
    args = parser.parse_args(argv)
    golden = compute()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(golden) + "\n")
    print(f"wrote {args.out} (TensorFlow {golden['versions']['tensorflow']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
