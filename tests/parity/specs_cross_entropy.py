"""Parity specs of softmax_cross_entropy (dense targets) and sparse_softmax_cross_entropy (labels).

Grouped by lossgrad convention: "exact" against tf.nn and optax (per-example values, reduction
"none"); "keras" against keras.losses (the classes with their defaults and options, the functions,
and Model.fit's class weights); "torch" against torch.nn.functional.cross_entropy.

Not specced because it is no parity claim: with dense targets, a −inf logit on a class of target 0
gives NaN in tf.nn, Keras, PyTorch and plain optax (0·(−inf)); lossgrad's exact 0 there equals
``optax.safe_softmax_cross_entropy``, which is specced.
"""

from __future__ import annotations

from tests.parity.inputs import EXTREME_SCALES, IGNORE_ALL, IGNORE_SOME, classification
from tests.parity.spec import (
    KERAS_REDUCTIONS,
    TORCH_REDUCTIONS,
    Call,
    Spec,
    keras_class,
    keras_fit,
    keras_sweep,
    optax_fn,
    ref,
    tf_nn,
    torch_fn,
    torch_sweep,
)
from tests.parity.spec import spec as make_spec

DENSE = "softmax_cross_entropy"
SPARSE = "sparse_softmax_cross_entropy"
KERAS_CLASS = {DENSE: "CategoricalCrossentropy", SPARSE: "SparseCategoricalCrossentropy"}
KERAS_FN = {DENSE: "categorical_crossentropy", SPARSE: "sparse_categorical_crossentropy"}
SOBS = "sum_over_batch_size"  # what a default-constructed Keras loss reduces with


def spec(loss, convention, name, inputs, calls, **options) -> Spec:
    """A spec grouped by, and run under, ``convention``."""
    return make_spec(loss, convention, name, inputs, calls, convention=convention, **options)


# ---------------------------------------------------------------------------------------------
# exact ↔ tf.nn and optax (per-example values)


def _optax_smoothed(alpha, *, sparse):
    """optax's way to smooth: softmax_cross_entropy against smooth_labels(labels, α)."""

    def fn(fw, a):
        labels = (fw.jax.nn.one_hot(a.target, a.prediction.shape[-1], dtype=a.prediction.dtype)
                  if sparse else a.target)
        smoothed = fw.optax.losses.smooth_labels(labels, alpha)
        return fw.optax.losses.softmax_cross_entropy(a.prediction, smoothed)

    one_hot = "jax.nn.one_hot(labels)" if sparse else "labels"
    return Call("optax", "optax.losses.softmax_cross_entropy", fn,
                f"optax.losses.softmax_cross_entropy(logits, "
                f"optax.losses.smooth_labels({one_hot}, {alpha}))")


def _exact(loss, calls, axis1_calls, extreme_calls):
    """The exact convention: random, spatial, PyTorch-layout, extreme and smoothed inputs."""
    target = "soft" if loss == DENSE else "labels"
    return [
        spec(loss, "exact", target, classification(target=target), calls, reduction="none"),
        spec(loss, "exact", "spatial", classification((4, 3, 5), target=target), calls,
             reduction="none"),
        spec(loss, "exact", "axis1", classification((4, 3, 5), axis=1, target=target),
             axis1_calls, reduction="none", axis=1),
        *[spec(loss, "exact", name, classification(
            target="one_hot" if loss == DENSE else "labels", scale=scale), extreme_calls,
            reduction="none") for name, scale in EXTREME_SCALES.items()],
        spec(loss, "exact", "smoothing", classification(target=target),
             [_optax_smoothed(0.1, sparse=loss == SPARSE)], reduction="none", label_smoothing=0.1),
    ]


def _dense_exact():
    safe = optax_fn("safe_softmax_cross_entropy")
    calls = [tf_nn("softmax_cross_entropy_with_logits"), optax_fn("softmax_cross_entropy"), safe]
    axis1 = [tf_nn("softmax_cross_entropy_with_logits", axis=1),
             optax_fn("softmax_cross_entropy", axis=1)]
    neg_inf = spec(DENSE, "exact", "neg_inf", classification(target="one_hot", neg_inf=True),
                   [safe], reduction="none")
    return [*_exact(DENSE, calls, axis1, calls), neg_inf]


def _sparse_exact():
    tf_sparse = tf_nn("sparse_softmax_cross_entropy_with_logits")
    calls = [tf_sparse, optax_fn("softmax_cross_entropy_with_integer_labels")]
    axis1 = [optax_fn("softmax_cross_entropy_with_integer_labels", axis=1)]
    neg_inf = spec(SPARSE, "exact", "neg_inf", classification(neg_inf=True), calls,
                   reduction="none")
    # optax's integer-label CE computes lse − x_y, which rounds log Σ away when the label's logit
    # ties the row maximum at ±1e4 (float32) or ±1e9: log 2 comes out 0.69335938 or 0. It is no
    # reference there; tf.nn is exact.
    return [*_exact(SPARSE, calls, axis1, [tf_sparse]), neg_inf]


# ---------------------------------------------------------------------------------------------
# keras ↔ keras.losses


def _keras_kwargs(options) -> dict:
    """Keras's arguments for lossgrad's options (ignore_index is Keras's ignore_class)."""
    names = {"ignore_index": "ignore_class", "label_smoothing": "label_smoothing", "axis": "axis"}
    return {"from_logits": True, **{names[k]: v for k, v in options.items() if k in names}}


def _keras(loss, name, inputs, reductions, *, weighted=False, **options):
    """One spec per Keras reduction; ``weighted``: the inputs hold sample weights."""
    return keras_sweep(loss, name, inputs, reductions, KERAS_CLASS[loss],
                       None if weighted else KERAS_FN[loss], _keras_kwargs(options),
                       convention="keras", **options)


def _keras_common(loss):
    """What both losses share under Keras: defaults, reductions, weights, layouts, extremes."""
    target = "soft" if loss == DENSE else "labels"
    hard = "one_hot" if loss == DENSE else "labels"
    default = spec(loss, "keras", "default", classification(target=target),
                   [keras_class(KERAS_CLASS[loss], from_logits=True)], reduction=SOBS)
    fit = spec(loss, "keras", "fit_class_weight", classification(target=target, class_weight=True),
               [keras_fit(KERAS_CLASS[loss], from_logits=True)], reduction=SOBS)
    return [
        default, fit,
        *_keras(loss, target, classification(target=target), (SOBS, "sum", None)),
        *_keras(loss, "sample_weight", classification(target=target, sample_weight="sample"),
                tuple(KERAS_REDUCTIONS), weighted=True),
        *_keras(loss, "entry_weight", classification((4, 3, 5), target=target,
                                                     sample_weight="entry"), (SOBS, None),
                weighted=True),
        *[s for name, scale in EXTREME_SCALES.items()
          for s in _keras(loss, name, classification(target=hard, scale=scale), (None,))],
    ]


def _dense_keras():
    return [
        *_keras_common(DENSE),
        # Only the dense loss: Keras's TF backend refuses sparse labels with axis != −1.
        *_keras(DENSE, "axis1", classification((4, 3, 5), axis=1, target="soft"), (None,), axis=1),
        *_keras(DENSE, "smoothing", classification(target="soft"), (SOBS, None),
                label_smoothing=0.2),
        spec(DENSE, "keras", "fit_class_weight_smoothing",
             classification(target="soft", class_weight=True),
             [keras_fit(KERAS_CLASS[DENSE], from_logits=True, label_smoothing=0.1)],
             reduction=SOBS, label_smoothing=0.1),
    ]


def _sparse_keras():
    some, every = (-1, IGNORE_SOME), (-1, IGNORE_ALL)
    return [
        *_keras_common(SPARSE),
        *_keras(SPARSE, "neg_inf", classification(neg_inf=True), (None,)),
        *_keras(SPARSE, "ignore", classification(ignore=some), (SOBS, "sum", None),
                ignore_index=-1),
        *_keras(SPARSE, "ignore_real_class", classification(ignore=(2, IGNORE_SOME)), (SOBS,),
                ignore_index=2),
        *_keras(SPARSE, "ignore_weighted", classification(ignore=some, sample_weight="sample"),
                (SOBS, "sum", None), weighted=True, ignore_index=-1),
        *_keras(SPARSE, "ignore_all", classification(ignore=every), (SOBS, None),
                ignore_index=-1, empty="zero"),
    ]


# ---------------------------------------------------------------------------------------------
# torch ↔ torch.nn.functional.cross_entropy


def _torch(loss, name, inputs, reductions=tuple(TORCH_REDUCTIONS), *, weighted=False, **options):
    """One spec per reduction; class weights (``weighted``) are PyTorch's ``weight``."""
    kwargs = {k: options[k] for k in ("ignore_index", "label_smoothing") if k in options}
    if weighted:
        kwargs["weight"] = ref("class_weight")
    return torch_sweep(loss, name, inputs, reductions, "cross_entropy", kwargs,
                       convention="torch", **options)


def _torch_common(loss):
    target = "soft" if loss == DENSE else "labels"
    hard = "one_hot" if loss == DENSE else "labels"
    weighted = classification(target=target, class_weight=True)
    # PyTorch's defaults against lossgrad's: reduction "mean" on both sides.
    default = spec(loss, "torch", "default", classification(target=target),
                   [torch_fn("cross_entropy")])
    return [
        default,
        *_torch(loss, target, classification(target=target)),
        *_torch(loss, "weight", weighted, weighted=True),
        *_torch(loss, "smoothing", classification(target=target), ("mean", "none"),
                label_smoothing=0.1),
        *_torch(loss, "weight_smoothing", weighted, weighted=True, label_smoothing=0.1),
        *_torch(loss, "axis1", classification((3, 2, 4, 5), axis=1, target=target,
                                              class_weight=True), ("mean",), weighted=True, axis=1),
        *[s for name, scale in EXTREME_SCALES.items()
          for s in _torch(loss, name, classification(target=hard, scale=scale), ("mean", "none"))],
    ]


def _sparse_torch():
    some = (-100, IGNORE_SOME)
    return [
        *_torch_common(SPARSE),
        *_torch(SPARSE, "neg_inf", classification(neg_inf=True), ("mean", "none")),
        *_torch(SPARSE, "ignore", classification(ignore=some), ignore_index=-100),
        *_torch(SPARSE, "ignore_real_class", classification(ignore=(2, IGNORE_SOME)), ("mean",),
                ignore_index=2),
        *_torch(SPARSE, "ignore_weight_smoothing", classification(ignore=some, class_weight=True),
                ("mean", "none"), weighted=True, ignore_index=-100, label_smoothing=0.1),
        *_torch(SPARSE, "ignore_all", classification(ignore=(-100, IGNORE_ALL)),
                ("mean", "sum", "none"), ignore_index=-100, empty="nan"),
        *_torch(SPARSE, "axis1_ignore", classification((3, 2, 4, 5), axis=1, ignore=some,
                                                       class_weight=True), ("mean",),
                weighted=True, ignore_index=-100, axis=1),
    ]


SPECS: list[Spec] = [
    *_dense_exact(), *_sparse_exact(),
    *_dense_keras(), *_sparse_keras(),
    *_torch_common(DENSE), *_sparse_torch(),
]
