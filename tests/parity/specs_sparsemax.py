"""Parity specs of the sparsemax losses (losses/sparsemax.py) against optax, whose losses return
per-example values (reduction "none"); no other installed framework has them.

The extreme-logit inputs are drawn from {−s, 0, s}, so they hold exact ties among the top scores and
scores on the support boundary: the losses are continuously differentiable, and optax's gradient
(jax.grad through its projection's custom JVP) must equal lossgrad's p − onehot(y) there too. The
projection itself is compared with ``optax.projections.projection_simplex`` in
tests/losses/test_sparsemax.py.
"""

from __future__ import annotations

from dataclasses import replace

from tests.parity.inputs import EXTREME_SCALES, classification, elementwise
from tests.parity.spec import optax_fn, spec

NONE = {"reduction": "none"}
MULTICLASS, BINARY = "multiclass_sparsemax", "binary_sparsemax"


def _multiclass():
    """float64 only: with jax_enable_x64 on (the parity runner's setting), optax 0.2.8's
    projection_simplex promotes a float32 input to a float64 output (1 / its int64 support size),
    and its custom JVP then refuses the float32 tangent; float32 sparsemax is compared with optax's
    forward projection in tests/losses/test_sparsemax.py."""
    call = [optax_fn("multiclass_sparsemax_loss")]
    inputs = {"labels": classification((6, 5)),
              "small_scores": classification((6, 5), scale=0.25),
              **{name: classification((6, 5), scale=scale) for name, scale in
                 EXTREME_SCALES.items()}}
    return [replace(spec(MULTICLASS, "none", name, make, call, **NONE), dtypes=("float64",))
            for name, make in inputs.items()]


def _binary():
    call = [optax_fn("sparsemax_loss")]
    return [
        spec(BINARY, "none", "hard", elementwise(target="hard"), call, **NONE),
        *[spec(BINARY, "none", name, elementwise(target="hard", scale=scale), call, **NONE)
          for name, scale in EXTREME_SCALES.items()],
    ]


SPECS = [*_multiclass(), *_binary()]
