"""Parity specs of the regression losses (losses/regression.py; squared_error's are in
specs_binary.py).

Keras's regression classes average over the last axis before they reduce, so a class equals
lossgrad's "mean" without weights, "sum_over_batch_size" with per-sample weights at its default
reduction, and "mean" with per-sample weights under "mean_with_sample_weight"; its other reductions
and its per-sample functions are the compat front ends' (specs_compat.py). PyTorch's "mean" is
lossgrad's "mean" here (no weights). optax returns per-example values (reduction "none").

TensorFlow Addons' pinball loss (archived: not installable) is checked through its formula,
max(τ·(y − x), (τ − 1)·(y − x)) written in TensorFlow ops and differentiated by tf.GradientTape,
both per entry and as ``PinballLoss`` reduces it. Its gradient at an exact tie x = y is −τ
(tf.maximum's choice) where lossgrad gives 0, so its inputs have no ties; the other losses are also
checked at exact ties and joins (dyadic inputs, exact in float32), where lossgrad and the
frameworks give the same subgradient.
"""

from __future__ import annotations

from functools import partial

from tests.parity.inputs import elementwise
from tests.parity.spec import (
    TORCH_REDUCTIONS,
    Call,
    keras_class,
    optax_fn,
    spec,
    torch_fn,
    torch_sweep,
)

SOBS = "sum_over_batch_size"
NONE = {"reduction": "none"}
ALL = tuple(TORCH_REDUCTIONS)

real = partial(elementwise, prediction="real", target="real")


# ---------------------------------------------------------------------------------------------
# input makers beyond tests.parity.inputs


def ties_and_joins(width: float, shape=(4, 3)):
    """Dyadic targets and errors drawn from width·{0, ±1, ±½, ±3}: exact ties (e = 0), Huber's and
    smooth L1's joins (|e| = width) and both pieces, the same numbers in float32 and float64."""

    def make(rng, dtype):
        y = rng.integers(-8, 9, size=shape) / 4
        e = width * rng.choice([0.0, 1.0, -1.0, 0.5, -0.5, 3.0, -3.0], size=shape)
        return {"prediction": y + e, "target": y}

    return make


def positive(sample_weight=None, shape=(4, 3)):
    """Predictions and targets in [0, 4]: MSLE's floor inactive."""

    def make(rng, dtype):
        out = {"prediction": rng.uniform(0.0, 4.0, size=shape),
               "target": rng.uniform(0.0, 4.0, size=shape)}
        if sample_weight:
            out["sample_weight"] = rng.uniform(0.1, 2.0, size=shape[:1])
        return out

    return make


def around_the_floor(shape=(4, 3)):
    """Predictions in [−1, 3] with exact 0s and 1e-7s (Keras's ε: clipped in float64, where ε is
    float32(1e-7); at the floor in float32, where tf.maximum passes the gradient); targets with 0s
    and negatives."""

    def make(rng, dtype):
        x = rng.uniform(-1.0, 3.0, size=shape)
        x.reshape(-1)[::4] = 0.0
        x.reshape(-1)[1::4] = 1e-7
        y = rng.uniform(-1.0, 3.0, size=shape)
        y.reshape(-1)[::3] = 0.0
        return {"prediction": x, "target": y}

    return make


def zero_targets(shape=(4, 3)):
    """Real predictions and targets, about a third of the targets 0 (MAPE's floor: ℓ = 1e9·|x|)
    and a few predictions equal to their targets (the kink)."""

    def make(rng, dtype):
        y = rng.normal(size=shape)
        y.reshape(-1)[::3] = 0.0
        x = rng.normal(size=shape)
        x.reshape(-1)[1::5] = y.reshape(-1)[1::5]
        return {"prediction": x, "target": y}

    return make


# ---------------------------------------------------------------------------------------------
# builders


def _keras(loss, cls, inputs, keras_kwargs=(), tag="", **options):
    """The Keras class at its default reduction, unweighted and with per-sample weights, and under
    "mean_with_sample_weight"; ids ``[<tag>-]default`` and so on. ``inputs(sample_weight=…)``
    makes the spec's inputs."""
    kwargs = dict(keras_kwargs)
    weighted = inputs(sample_weight="sample")
    prefix = f"{tag}-" if tag else ""
    return [
        spec(loss, "keras", f"{prefix}default", inputs(), [keras_class(cls, **kwargs)], **options),
        spec(loss, "keras", f"{prefix}sample_weight", weighted, [keras_class(cls, **kwargs)],
             reduction=SOBS, **options),
        spec(loss, "keras", f"{prefix}mean_with_sample_weight", weighted,
             [keras_class(cls, **kwargs, reduction="mean_with_sample_weight")], reduction="mean",
             **options),
    ]


def _torch(loss, function, inputs, name="real", reductions=ALL, torch_kwargs=(), **options):
    """``F.<function>`` at its defaults, then once per reduction."""
    kwargs = dict(torch_kwargs)
    return [
        spec(loss, "torch", f"{name}-default", inputs, [torch_fn(function, **kwargs)], **options),
        *torch_sweep(loss, name, inputs, reductions, function, kwargs, **options),
    ]


def _pinball(tau: float, *, reduced: bool) -> Call:
    """TensorFlow Addons' pinball loss, written in TensorFlow ops: per entry, or (``reduced``) as
    ``PinballLoss`` reduces it — the mean of each sample's flattened entries, then over the batch.

    τ is made a constant of the inputs' dtype: TFA's ``tf.cast(tau, dtype)`` of a Python float goes
    through float32, which in float64 would compare lossgrad with float32(τ) (0.1 → 0.10000000149).
    """

    def fn(fw, a):
        tf = fw.tf
        slope = tf.constant(tau, dtype=a.prediction.dtype)
        delta = a.target - a.prediction
        pinball = tf.math.maximum(slope * delta, (slope - 1) * delta)
        if not reduced:
            return pinball
        per_sample = tf.reduce_mean(tf.reshape(pinball, (tf.shape(pinball)[0], -1)), axis=-1)
        return tf.reduce_mean(per_sample)

    form = "max(tau * (y - x), (tau - 1) * (y - x))"
    if reduced:
        return Call("tf", "tfa.losses.PinballLoss (formula)", fn,
                    f"tfa.losses.PinballLoss(tau={tau})(y, x) as mean(mean({form}, per sample))")
    return Call("tf", "tfa.losses.pinball_loss (formula)", fn, f"{form} with tau={tau}")


# ---------------------------------------------------------------------------------------------
# the losses


def _absolute_error():
    ties = ties_and_joins(1.0)
    return [
        *_torch("absolute_error", "l1_loss", real()),
        spec("absolute_error", "torch", "ties", ties, [torch_fn("l1_loss", reduction="none")],
             **NONE),
        *_keras("absolute_error", "MeanAbsoluteError", real),
        spec("absolute_error", "keras", "ties", ties, [keras_class("MeanAbsoluteError")]),
    ]


def _huber():
    return [
        *_torch("huber", "huber_loss", real()),
        *_torch("huber", "huber_loss", real(), "delta", ("mean", "none"), {"delta": 0.5},
                delta=0.5),
        spec("huber", "none", "joins", ties_and_joins(0.5),
             [torch_fn("huber_loss", delta=0.5, reduction="none"),
              optax_fn("huber_loss", delta=0.5)], delta=0.5, **NONE),
        *_keras("huber", "Huber", real),
        *_keras("huber", "Huber", real, {"delta": 2.0}, "delta", delta=2.0),
        spec("huber", "keras", "joins", ties_and_joins(1.0), [keras_class("Huber")]),
        spec("huber", "none", "real", real(), [optax_fn("huber_loss")], **NONE),
        spec("huber", "none", "delta", real(), [optax_fn("huber_loss", delta=2.0)], delta=2.0,
             **NONE),
    ]


def _smooth_l1():
    return [
        *_torch("smooth_l1", "smooth_l1_loss", real()),
        *_torch("smooth_l1", "smooth_l1_loss", real(), "beta", ("mean", "none"), {"beta": 0.5},
                beta=0.5),
        *_torch("smooth_l1", "smooth_l1_loss", ties_and_joins(1.0), "beta0", ALL, {"beta": 0.0},
                beta=0.0),
        spec("smooth_l1", "torch", "joins", ties_and_joins(0.5),
             [torch_fn("smooth_l1_loss", beta=0.5, reduction="none")], beta=0.5, **NONE),
    ]


def _log_cosh():
    far = elementwise(prediction="logits", target="real", scale=1e3)  # errors of ±1000: cosh = inf
    return [
        *_keras("log_cosh", "LogCosh", real, convention="keras"),
        spec("log_cosh", "keras", "far", far, [keras_class("LogCosh")], convention="keras"),
        spec("log_cosh", "none", "real", real(), [optax_fn("log_cosh")], **NONE),
        spec("log_cosh", "none", "far", far, [optax_fn("log_cosh")], **NONE),
    ]


def _keras_only():
    cls_mape, cls_msle = "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError"
    return [
        *_keras("mape", cls_mape, real),
        spec("mape", "keras", "zero_targets", zero_targets(), [keras_class(cls_mape)]),
        *_keras("msle", cls_msle, positive),
        spec("msle", "keras", "floor", around_the_floor(), [keras_class(cls_msle)]),
    ]


def _quantile():
    specs = []
    for tau in (0.5, 0.1, 0.9):
        options = {} if tau == 0.5 else {"tau": tau}
        name = f"tau{tau}"
        specs += [
            spec("quantile", "none", name, real(), [_pinball(tau, reduced=False)], **options,
                 **NONE),
            spec("quantile", "tf", name, real(), [_pinball(tau, reduced=True)], **options,
                 reduction=SOBS),
        ]
    return specs


SPECS = [*_absolute_error(), *_huber(), *_smooth_l1(), *_log_cosh(), *_keras_only(),
         *_quantile()]
