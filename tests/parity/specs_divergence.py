"""Parity specs of the divergences and likelihoods (losses/divergence.py).

Each spec compares the gradients of every differentiable input (``wrt``) that the framework
differentiates the same way: both inputs of the divergences and cosines, the variance of
``gaussian_nll``. At a zero target PyTorch's and optax's gradients of the target are NaN, where
lossgrad gives the derivative's limit −∞: those specs compare the prediction's gradient only.

optax's KL divergences return per-example sums over the last axis: their ``.sum()`` and ``.mean()``
are lossgrad's "sum" and "batchmean" of the per-entry values. Keras's Poisson averages over the last
axis first (like its regression losses), so its class is lossgrad's "mean" without weights and
"sum_over_batch_size" with per-sample weights. Liger-Kernel's JSD runs on GPUs only: its formula,
β·KL(P‖M) + (1 − β)·KL(Q‖M), is written with PyTorch ops and differentiated by autograd. PyTorch's
GaussianNLLLoss gradient for a variance below eps passes straight through its no-grad clamp; the
"clamped" spec checks lossgrad gives the same.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.parity.inputs import classification
from tests.parity.spec import (
    TORCH_REDUCTIONS,
    Call,
    keras_class,
    keras_fn,
    optax_fn,
    ref,
    spec,
    torch_fn,
    torch_sweep,
)

SOBS = "sum_over_batch_size"
NONE = {"reduction": "none"}
KERAS = {"convention": "keras"}
ALL = tuple(TORCH_REDUCTIONS)
BOTH = ("prediction", "target")
SHAPE = (6, 5)


def _wrt(specs, wrt=BOTH):
    return [replace(s, wrt=wrt) for s in specs]


def _log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


# ---------------------------------------------------------------------------------------------
# input makers beyond tests.parity.inputs


def log_distributions(rng, dtype):
    """Two log-probability rows per sample (log-softmax of N(0, 2²) logits)."""
    return {"prediction": _log_softmax(rng.normal(scale=2.0, size=SHAPE)),
            "target": _log_softmax(rng.normal(scale=2.0, size=SHAPE))}


def counts(prediction, sample_weight=False, zeros=False):
    """Rates ("rates": uniform in [0.1, 4]) or log-rates ("log_rates": N(0, 1)) and Poisson(2)
    counts (0, 1 and above 1, where Stirling's term applies); ``zeros`` sets every third rate to 0
    (Keras's and PyTorch's ε keep the loss finite there)."""

    def make(rng, dtype):
        x = (rng.uniform(0.1, 4.0, size=SHAPE) if prediction == "rates"
             else rng.normal(size=SHAPE))
        if zeros:
            x.reshape(-1)[::3] = 0.0
        out = {"prediction": x, "target": rng.poisson(2.0, size=SHAPE).astype(float)}
        if sample_weight:
            out["sample_weight"] = rng.uniform(0.1, 2.0, size=SHAPE[:1])
        return out

    return make


def gaussian(var_shape, clamped=False):
    """Means and targets N(0, 1), variances in [0.2, 2] of ``var_shape``; ``clamped`` sets a few
    to 0 and 1e-9, below PyTorch's eps."""

    def make(rng, dtype):
        var = rng.uniform(0.2, 2.0, size=var_shape)
        if clamped:
            var.reshape(-1)[::4] = 0.0
            var.reshape(-1)[1::4] = 1e-9
        return {"prediction": rng.normal(size=SHAPE), "target": rng.normal(size=SHAPE), "var": var}

    return make


def vectors(zero_rows=False, tiny_rows=False, sample_weight=False):
    """Vectors N(0, 1) along the last axis; ``zero_rows`` zeroes row 0 of the prediction and row 1
    of the target; ``tiny_rows`` scales rows 2 and 3 by 1e-9 (below Keras's floor 1e-7 and the
    floor √0.01 of epsilon=0.01)."""

    def make(rng, dtype):
        x, z = rng.normal(size=SHAPE), rng.normal(size=SHAPE)
        if zero_rows:
            x[0], z[1] = 0.0, 0.0
        if tiny_rows:
            x[2] *= 1e-9
            z[3] *= 1e-9
        out = {"prediction": x, "target": z}
        if sample_weight:
            out["sample_weight"] = rng.uniform(0.1, 2.0, size=SHAPE[:1])
        return out

    return make


def embedding_pairs(margin, zero_row=False):
    """x1, x2 N(0, 1) and y = ±1, no dissimilar pair within 1e-2 of the kink cos = margin (where
    the frameworks could round to either side); ``zero_row`` zeroes x1's row 0 (cos = 0)."""

    def make(rng, dtype):
        x1, x2 = rng.normal(size=SHAPE), rng.normal(size=SHAPE)
        y = rng.choice([-1.0, 1.0], size=SHAPE[:1])
        cos = np.sum(x1 * x2, -1) / np.linalg.norm(x1, axis=-1) / np.linalg.norm(x2, axis=-1)
        y[np.abs(cos - margin) < 1e-2] = 1.0
        if zero_row:
            x1[0] = 0.0
            y[0] = 1.0
        return {"prediction": x1, "target": x2, "y": y}

    return make


# ---------------------------------------------------------------------------------------------
# framework calls written here


def _optax_total(name: str, how: str) -> Call:
    """``optax.losses.<name>(log_predictions, targets).<how>()``: the per-example sums, reduced."""

    def fn(fw, a):
        return getattr(getattr(fw.optax.losses, name)(a.prediction, a.target), how)()

    return Call("optax", f"optax.losses.{name}+{how}", fn,
                f"optax.losses.{name}(log_predictions, targets).{how}()")


def _optax_kl_of_log() -> Call:
    """optax's KL divergence of probabilities: ``kl_divergence(log(probs), targets)``."""

    def fn(fw, a):
        return fw.optax.losses.kl_divergence(fw.jnp.log(a.prediction), a.target)

    return Call("optax", "optax.losses.kl_divergence(log)", fn,
                "optax.losses.kl_divergence(jnp.log(probs), targets)")


def _liger_jsd(beta: float, reduction: str) -> Call:
    """Liger-Kernel's generalised JSD, β·KL(P‖M) + (1 − β)·KL(Q‖M) with M = βP + (1 − β)Q, each KL
    a ``F.kl_div(log M, ·, log_target=True)``; Q = e^x (the prediction), P = e^y (the target).
    'batchmean' divides the sum by the number of rows, as LigerJSD does."""

    def fn(fw, a):
        x, y = a.prediction, a.target
        log_m = (beta * y.exp() + (1 - beta) * x.exp()).log()
        per_entry = (beta * fw.F.kl_div(log_m, y, reduction="none", log_target=True)
                     + (1 - beta) * fw.F.kl_div(log_m, x, reduction="none", log_target=True))
        return {"none": per_entry, "sum": per_entry.sum(),
                "batchmean": per_entry.sum() / x.shape[0]}[reduction]

    return Call("torch", f"LigerJSD formula ({reduction})", fn,
                f"beta*F.kl_div(log M, y, log_target=True) + (1-beta)*F.kl_div(log M, x, "
                f"log_target=True), M = beta*e^y + (1-beta)*e^x, beta={beta}, {reduction}")


def _tf_log_poisson(full: bool) -> Call:
    """``tf.nn.log_poisson_loss(targets, log_input, compute_full_loss)``."""

    def fn(fw, a):
        return fw.tf.nn.log_poisson_loss(a.target, a.prediction, compute_full_loss=full)

    return Call("tf", "tf.nn.log_poisson_loss", fn,
                f"tf.nn.log_poisson_loss(targets, log_input, compute_full_loss={full})")


# ---------------------------------------------------------------------------------------------
# the losses


def _kl_divergence():
    soft = classification(SHAPE, prediction="log_probabilities", target="soft")
    one_hot = classification(SHAPE, prediction="log_probabilities", target="one_hot")
    log_target = {"log_target": True}
    batchmean = {"reduction": "batchmean"}
    return [
        *_wrt([
            spec("kl_divergence", "torch", "soft-default", soft, [torch_fn("kl_div")]),
            *torch_sweep("kl_divergence", "soft", soft, ALL, "kl_div"),
            spec("kl_divergence", "torch", "soft-batchmean", soft,
                 [torch_fn("kl_div", reduction="batchmean")], **batchmean),
            spec("kl_divergence", "torch", "log_target-none", log_distributions,
                 [torch_fn("kl_div", reduction="none", log_target=True)], **log_target, **NONE),
            spec("kl_divergence", "torch", "log_target-batchmean", log_distributions,
                 [torch_fn("kl_div", reduction="batchmean", log_target=True)], **log_target,
                 **batchmean),
            spec("kl_divergence", "optax", "soft-sum", soft,
                 [_optax_total("kl_divergence", "sum")], reduction="sum"),
            spec("kl_divergence", "optax", "soft-batchmean", soft,
                 [_optax_total("kl_divergence", "mean")], **batchmean),
            spec("kl_divergence", "optax", "log_target-batchmean", log_distributions,
                 [_optax_total("kl_divergence_with_log_targets", "mean")], **log_target,
                 **batchmean),
        ]),
        # zero targets: only the prediction's gradient (the frameworks give NaN for the target's)
        spec("kl_divergence", "none", "one_hot", one_hot,
             [torch_fn("kl_div", reduction="none")], **NONE),
        spec("kl_divergence", "optax", "one_hot-batchmean", one_hot,
             [_optax_total("kl_divergence", "mean")], **batchmean),
    ]


def _categorical_kl_divergence():
    soft = classification(SHAPE, prediction="probabilities", target="soft")
    weighted = classification(SHAPE, prediction="probabilities", target="soft",
                              sample_weight="sample")
    saturated = classification(SHAPE, prediction="saturated", target="one_hot")
    name, cls = "categorical_kl_divergence", "KLDivergence"
    return _wrt([
        spec(name, "keras", "default", soft, [keras_class(cls)], reduction=SOBS, **KERAS),
        spec(name, "keras", "sum", soft, [keras_class(cls, reduction="sum")], reduction="sum",
             **KERAS),
        spec(name, "keras", "none", soft, [keras_class(cls, reduction=None),
                                           keras_fn("kl_divergence")], **NONE, **KERAS),
        spec(name, "keras", "sample_weight", weighted, [keras_class(cls)], reduction=SOBS,
             **KERAS),
        spec(name, "keras", "mean_with_sample_weight", weighted,
             [keras_class(cls, reduction="mean_with_sample_weight")], reduction="mean", **KERAS),
        spec(name, "keras", "saturated", saturated, [keras_fn("kl_divergence")], **NONE,
             **KERAS),
        spec(name, "exact", "soft", soft, [_optax_kl_of_log()], **NONE),
    ])


def _js_divergence():
    specs = []
    for beta in (0.5, 0.1, 0.9):
        options = {} if beta == 0.5 else {"beta": beta}
        for reduction in ("none", "sum", "batchmean"):
            specs.append(spec("js_divergence", "torch", f"beta{beta}-{reduction}",
                              log_distributions, [_liger_jsd(beta, reduction)],
                              reduction=reduction, **options))
    return _wrt(specs)


def _poisson():
    eps = {"eps": 1e-8}
    keras_eps = {"eps": 1e-7}
    rates, weighted = counts("rates"), counts("rates", sample_weight=True)
    no_log = {"log_input": False}
    return [
        spec("poisson", "keras", "default", rates, [keras_class("Poisson")], **keras_eps),
        spec("poisson", "keras", "sample_weight", weighted, [keras_class("Poisson")],
             reduction=SOBS, **keras_eps),
        spec("poisson", "keras", "mean_with_sample_weight", weighted,
             [keras_class("Poisson", reduction="mean_with_sample_weight")], reduction="mean",
             **keras_eps),
        spec("poisson", "keras", "zero_rates", counts("rates", zeros=True),
             [keras_class("Poisson")], **keras_eps),
        *torch_sweep("poisson", "rates", rates, ALL, "poisson_nll_loss", no_log, **eps),
        spec("poisson", "torch", "full", rates,
             [torch_fn("poisson_nll_loss", log_input=False, full=True, reduction="none")],
             full=True, **eps, **NONE),
        spec("poisson", "torch", "zero_rates", counts("rates", zeros=True),
             [torch_fn("poisson_nll_loss", log_input=False, reduction="sum")],
             reduction="sum", **eps),
    ]


def _log_poisson():
    log_rates = counts("log_rates")
    full = {"full": True}
    return [
        spec("log_poisson", "torch", "default", log_rates, [torch_fn("poisson_nll_loss")]),
        *torch_sweep("log_poisson", "log_rates", log_rates, ALL, "poisson_nll_loss"),
        *torch_sweep("log_poisson", "full", log_rates, ("mean", "none"), "poisson_nll_loss",
                     full, **full),
        spec("log_poisson", "tf", "none", log_rates, [_tf_log_poisson(False)], **NONE),
        spec("log_poisson", "tf", "full", log_rates, [_tf_log_poisson(True)], **full, **NONE),
    ]


def _gaussian_nll():
    wrt = ("prediction", "target", "var")
    var = {"var": ref("var")}
    shapes = {"entry": SHAPE, "sample": SHAPE[:1], "column1": (SHAPE[0], 1),
              "row1": (1, SHAPE[1])}
    specs = [spec("gaussian_nll", "torch", f"var_{name}-default", gaussian(shape),
                  [torch_fn("gaussian_nll_loss", **var)])
             for name, shape in shapes.items()]
    specs += torch_sweep("gaussian_nll", "var_entry", gaussian(SHAPE), ALL, "gaussian_nll_loss",
                         var)
    specs += [
        spec("gaussian_nll", "torch", "full_eps-sum", gaussian((SHAPE[0], 1)),
             [torch_fn("gaussian_nll_loss", **var, full=True, eps=0.5, reduction="sum")],
             full=True, eps=0.5, reduction="sum"),
        spec("gaussian_nll", "torch", "clamped-none", gaussian(SHAPE, clamped=True),
             [torch_fn("gaussian_nll_loss", **var, reduction="none")], **NONE),
    ]
    return _wrt(specs, wrt)


def _cosine():
    plain, weighted = vectors(), vectors(sample_weight=True)
    zeros, tiny = vectors(zero_rows=True), vectors(tiny_rows=True)
    cls = "CosineSimilarity"
    sim, dist = "cosine_similarity", "cosine_distance"
    return _wrt([
        spec(sim, "optax", "plain", plain, [optax_fn(sim)], **NONE),
        spec(sim, "optax", "epsilon", tiny, [optax_fn(sim, epsilon=0.01)], epsilon=0.01, **NONE),
        spec(sim, "optax", "axis0", plain, [optax_fn(sim, axis=0)], axis=0, **NONE),
        spec(dist, "optax", "plain", plain, [optax_fn(dist)], **NONE),
        spec(dist, "optax", "epsilon", tiny, [optax_fn(dist, epsilon=0.01)], epsilon=0.01,
             **NONE),
        spec(sim, "keras", "default", plain, [keras_class(cls)], reduction=SOBS, **KERAS),
        spec(sim, "keras", "sum", plain, [keras_class(cls, reduction="sum")], reduction="sum",
             **KERAS),
        spec(sim, "keras", "none", plain, [keras_class(cls, reduction=None),
                                           keras_fn(sim)], **NONE, **KERAS),
        spec(sim, "keras", "mean_with_sample_weight", weighted,
             [keras_class(cls, reduction="mean_with_sample_weight")], reduction="mean", **KERAS),
        spec(sim, "keras", "axis0", plain, [keras_class(cls, axis=0, reduction=None)], axis=0,
             **NONE, **KERAS),
        spec(sim, "keras", "zero_vectors", zeros, [keras_fn(sim)], **NONE, **KERAS),
        spec(sim, "keras", "tiny_vectors", tiny, [keras_fn(sim)], **NONE, **KERAS),
    ])


def _cosine_embedding():
    y = {"target": ref("y")}
    specs = []
    for margin in (0.0, 0.3, -0.2):
        options = {} if margin == 0 else {"margin": margin}
        specs += torch_sweep("cosine_embedding", f"margin{margin}", embedding_pairs(margin), ALL,
                             "cosine_embedding_loss", {**y, **options}, **options)
    specs.append(spec("cosine_embedding", "torch", "zero_vector", embedding_pairs(0.0, True),
                      [torch_fn("cosine_embedding_loss", **y, reduction="none")], **NONE))
    return _wrt(specs)


SPECS = [*_kl_divergence(), *_categorical_kl_divergence(), *_js_divergence(), *_poisson(),
         *_log_poisson(), *_gaussian_nll(), *_cosine(), *_cosine_embedding()]
