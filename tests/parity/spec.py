"""What a parity spec is, how lossgrad runs one, and the vocabulary for writing framework calls.

A :class:`Spec` pairs ONE lossgrad call with the real framework calls that must give the same value
and the same gradients with respect to the inputs it names in ``wrt`` (the prediction, unless it
says otherwise). Nothing here imports a framework: the golden
tests use this module with NumPy and lossgrad only; :mod:`tests.parity.frameworks` imports the
frameworks when the generator or the live suite asks for them.

A framework call (:class:`Call`) wraps a function ``fn(fw, a)`` returning the framework's loss
tensor: ``fw`` holds the imported modules (``fw.tf``, ``fw.keras``, ``fw.torch``, ``fw.F``,
``fw.jax``, ``fw.jnp``, ``fw.optax``), ``a`` the spec's inputs as that framework's tensors by name
(``a.prediction``, ``a.target``, ``a.sample_weight``, …) and ``a.dtype``, the dtype's name. The
builders below (:func:`tf_nn`, :func:`keras_class`, :func:`keras_fit`, :func:`keras_fn`,
:func:`torch_fn`, :func:`optax_fn`) cover the plain calls, an input passed as a keyword argument
with ``ref(name)``; anything else is a ``Call(framework, name, fn, description)`` written in the
family's spec module.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import numpy as np

from lossgrad import losses
from tests import tolerances as tol

#: The frameworks a call may run under (each has its runner in frameworks.py).
FRAMEWORKS = ("tf", "keras", "torch", "optax")
#: float32 always; float64 too, which every framework here supports (optax with jax_enable_x64).
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Spec:
    """One lossgrad call and the framework calls that equal it.

    id: unique and stable: it names the golden entries and seeds the inputs.
    loss: the loss's name in ``lossgrad.losses.NAMES``.
    options: constant keyword arguments of the lossgrad call (JSON values only: they are recorded in
        the golden index so a spec edited after the golden files were written is caught).
    inputs: (rng, dtype) → {"prediction": …, "target": … (when the loss has one), the loss's other
        inputs and optional arrays passed to lossgrad by name ("var", "sample_weight",
        "class_weight", …)}; floating arrays may be float64, they are cast.
    calls: the framework calls that must equal it (:class:`Call`, made by the builders below).
    dtypes: the dtypes the spec runs in.
    xfail: call name, or (call name, dtype) when only one dtype disagrees → the exact description
        of a known lossgrad disagreement; the lossgrad comparison is then a strict xfail (the
        golden-against-framework check still runs). Set with :func:`with_known_failures`.
    wrt: the inputs (names in ``inputs``) whose gradients of value.sum() are compared, the
        prediction's first; each framework call differentiates with respect to all of them.
    """

    id: str
    loss: str
    options: Mapping
    inputs: Callable
    calls: tuple
    dtypes: tuple = DTYPES
    xfail: Mapping = field(default_factory=dict)
    wrt: tuple = ("prediction",)

    def __post_init__(self):
        names = [c.name for c in self.calls]
        known = {k if isinstance(k, str) else k[0] for k in self.xfail}
        if len(set(names)) != len(names) or not known <= set(names):
            raise ValueError(f"spec {self.id}: call names {names} repeat or miss {known}")
        if self.wrt[:1] != ("prediction",) or len(set(self.wrt)) != len(self.wrt):
            raise ValueError(f"spec {self.id}: wrt={self.wrt} must start with 'prediction' and "
                             "name each input once")
        json.dumps(dict(self.options))  # raises for a non-JSON option: arrays belong in inputs

    def call(self, name: str) -> Call:
        return next(c for c in self.calls if c.name == name)

    def known_failure(self, call: str, dtype: str) -> str | None:
        """The recorded reason lossgrad disagrees with ``call`` in ``dtype``, or None."""
        return self.xfail.get((call, dtype)) or self.xfail.get(call)

    def make_inputs(self, dtype: str) -> dict[str, np.ndarray]:
        """The spec's inputs in ``dtype``; the same numbers on every call and every machine."""
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        arrays = self.inputs(rng, np.dtype(dtype))
        return {name: _cast(a, dtype) for name, a in arrays.items()}

    def run_lossgrad(self, arrays: Mapping[str, np.ndarray]):
        """lossgrad's LossResult on these inputs: prediction and target (if any) first, the rest
        by name."""
        first = [arrays[k] for k in ("prediction", "target") if k in arrays]
        extra = {k: v for k, v in arrays.items() if k not in ("prediction", "target")}
        return losses.get(self.loss)(*first, **self.options, **extra)

    def lossgrad_grads(self, result) -> dict[str, np.ndarray]:
        """A lossgrad result's gradients under the spec's input names, for each name in ``wrt``.

        lossgrad keys ``result.grads`` by its own parameter names; "prediction" is ``.grad`` and
        "target" the loss's second input, the others have the same name on both sides.
        """
        return {name: result.grad if name == "prediction" else result.grads[self._own_name(name)]
                for name in self.wrt}

    def _own_name(self, name: str) -> str:
        return losses.get(self.loss).inputs[1] if name == "target" else name


@dataclass(frozen=True)
class FrontSpec(Spec):
    """A front end of lossgrad.compat called exactly as its framework is called.

    ``use(root, a)`` makes the call — constructor and call arguments written once — against an API
    root: the framework's inside the spec's Call, ``compat_root`` (lossgrad.compat's, on NumPy
    inputs) in :meth:`run_lossgrad`; both sides get the same arguments by construction.
    """

    use: Callable | None = None
    compat_root: object = None

    def run_lossgrad(self, arrays: Mapping[str, np.ndarray]):
        a = SimpleNamespace(**arrays, dtype=arrays["prediction"].dtype.name)
        return self.use(self.compat_root, a)


def spec(loss: str, group: str, name: str, inputs: Callable, calls, **options) -> Spec:
    """A spec with the id ``<loss>/<group>/<name>`` (group: the convention, or the framework)."""
    return Spec(id=f"{loss}/{group}/{name}", loss=loss, options=options, inputs=inputs,
                calls=tuple(calls))


#: Keras reduction → the lossgrad reduction it equals. Keras's None is "none"; its
#: "mean_with_sample_weight" (Σwℓ/Σw) is lossgrad's "mean".
KERAS_REDUCTIONS = {"sum_over_batch_size": "sum_over_batch_size", "sum": "sum", None: "none",
                    "mean_with_sample_weight": "mean"}
#: PyTorch's reductions are lossgrad's of the same name.
TORCH_REDUCTIONS = {"mean": "mean", "sum": "sum", "none": "none"}


def sweep(loss: str, group: str, name: str, inputs: Callable, reductions: Mapping,
          calls: Callable, **options) -> list[Spec]:
    """One spec per framework reduction: ``calls(theirs)`` against lossgrad's ``reduction=ours``
    for each ``theirs → ours`` of ``reductions``; ids ``<loss>/<group>/<name>-<ours>``."""
    return [spec(loss, group, f"{name}-{ours}", inputs, calls(theirs), reduction=ours, **options)
            for theirs, ours in reductions.items()]


def only(reductions: Mapping, *keys) -> dict:
    """The entries of a reduction table for these framework reductions, in this order."""
    return {k: reductions[k] for k in keys}


def keras_sweep(loss: str, name: str, inputs: Callable, reductions, cls: str,
                function: str | None = None, keras_kwargs: Mapping = (), **options) -> list[Spec]:
    """One "keras" spec per Keras reduction (keys of KERAS_REDUCTIONS) of
    ``keras.losses.<cls>(**keras_kwargs)``; the "none" one also checks the per-sample function
    ``keras.losses.<function>`` when given (leave it out when the inputs hold sample weights: the
    function takes none)."""
    kwargs = dict(keras_kwargs)

    def calls(reduction):
        extra = [keras_fn(function, **kwargs)] if reduction is None and function else []
        return [keras_class(cls, **kwargs, reduction=reduction), *extra]

    return sweep(loss, "keras", name, inputs, only(KERAS_REDUCTIONS, *reductions), calls,
                 **options)


def torch_sweep(loss: str, name: str, inputs: Callable, reductions, function: str,
                torch_kwargs: Mapping = (), **options) -> list[Spec]:
    """One "torch" spec per PyTorch reduction of ``torch.nn.functional.<function>``."""
    kwargs = dict(torch_kwargs)
    return sweep(loss, "torch", name, inputs, only(TORCH_REDUCTIONS, *reductions),
                 lambda r: [torch_fn(function, **kwargs, reduction=r)], **options)


def with_known_failures(specs, known: Mapping[str, Mapping]) -> list[Spec]:
    """``specs`` with ``known[spec id]`` as their xfail; an id that names no spec is an error."""
    missing = set(known) - {s.id for s in specs}
    if missing:
        raise ValueError(f"known failures of specs that do not exist: {sorted(missing)}")
    return [replace(s, xfail=known[s.id]) if s.id in known else s for s in specs]


def _cast(a, dtype) -> np.ndarray:
    a = np.asarray(a)
    return a.astype(dtype) if a.dtype.kind == "f" else a.astype(np.int64)


def check_same(actual_value, actual_grads: Mapping, value, grads: Mapping, dtype: str,
               what: str) -> None:
    """Values and every gradient (input name → array, the same names on both sides) agree at the
    framework tolerance (shapes exactly; NaN matches NaN)."""
    assert list(actual_grads) == list(grads), f"{what}: gradients of {list(actual_grads)} " \
                                              f"against {list(grads)}"
    pairs = [("value", actual_value, value),
             *((f"grad of {k}", actual_grads[k], grads[k]) for k in grads)]
    for name, got, want in pairs:
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape, f"{what}: {name} shape {got.shape} != {want.shape}"
        tol.assert_close(got, want, dtype, table=tol.FRAMEWORK, err_msg=f"{what}: {name}")


# ---------------------------------------------------------------------------------------------
# framework calls


@dataclass(frozen=True)
class Call:
    """One real framework call.

    framework: which runner differentiates it ("tf", "keras", "torch" or "optax").
    name: the API called ("torch.nn.functional.cross_entropy"); unique within a spec, it names the
        golden entry and the test.
    fn: fn(fw, a) → the framework's loss tensor.
    description: the call as written, for messages and the golden index.
    """

    framework: str
    name: str
    fn: Callable
    description: str

    def __post_init__(self):
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"{self.name}: unknown framework {self.framework!r}")


@dataclass(frozen=True)
class Ref:
    """A keyword argument taken from the spec's inputs (as the framework's tensor)."""

    name: str


def ref(name: str) -> Ref:
    return Ref(name)


def resolve(kwargs: Mapping, a) -> dict:
    return {k: getattr(a, v.name) if isinstance(v, Ref) else v for k, v in kwargs.items()}


def show_kwargs(kwargs: Mapping) -> str:
    return ", ".join(f"{k}={v.name if isinstance(v, Ref) else repr(v)}" for k, v in kwargs.items())


def _call(framework: str, name: str, fn: Callable, kwargs: Mapping) -> Call:
    return Call(framework, name, fn, f"{name}({show_kwargs(kwargs)})")


def tf_nn(name: str, **kwargs) -> Call:
    """``tf.nn.<name>(labels=target, logits=prediction, **kwargs)``: per-example values."""

    def fn(fw, a):
        return getattr(fw.tf.nn, name)(labels=a.target, logits=a.prediction, **resolve(kwargs, a))

    return _call("tf", f"tf.nn.{name}", fn, kwargs)


def keras_fn(name: str, **kwargs) -> Call:
    """``keras.losses.<name>(y_true, y_pred, **kwargs)``: the per-sample function."""

    def fn(fw, a):
        return getattr(fw.keras.losses, name)(a.target, a.prediction, **resolve(kwargs, a))

    return _call("keras", f"keras.losses.{name}", fn, kwargs)


def keras_class(name: str, **kwargs) -> Call:
    """``keras.losses.<name>(**kwargs, dtype=a.dtype)(y_true, y_pred, sample_weight)``.

    The dtype is passed because a Keras loss otherwise computes in floatx (float32) whatever its
    inputs; ``sample_weight`` is the spec's input of that name when it has one.
    """

    def fn(fw, a):
        loss = _keras_loss(fw, name, kwargs, a)
        return loss(a.target, a.prediction, sample_weight=getattr(a, "sample_weight", None))

    return _call("keras", f"keras.losses.{name}", fn, kwargs)


def _keras_loss(fw, name, kwargs, a):
    return getattr(fw.keras.losses, name)(**resolve(kwargs, a), dtype=a.dtype)


def keras_fit(name: str, **kwargs) -> Call:
    """The Keras class as ``Model.fit(class_weight=…)`` applies it.

    fit turns the class weights into per-sample weights with Keras's own
    ``class_weight_to_sample_weights`` (the arg-max class of a one-hot row, the rounded label of a
    sparse one); that function is called here, so a change in Keras shows up.
    """

    def fn(fw, a):
        weights = {i: float(w) for i, w in enumerate(np.asarray(a.class_weight))}
        sample_weight = fw.keras_class_weights(a.target, weights)
        return _keras_loss(fw, name, kwargs, a)(a.target, a.prediction, sample_weight=sample_weight)

    return _call("keras", f"keras.Model.fit(class_weight)+keras.losses.{name}", fn, kwargs)


def torch_fn(name: str, **kwargs) -> Call:
    """``torch.nn.functional.<name>(input=prediction, target, **kwargs)``."""

    def fn(fw, a):
        return getattr(fw.F, name)(a.prediction, a.target, **resolve(kwargs, a))

    return _call("torch", f"torch.nn.functional.{name}", fn, kwargs)


def optax_fn(name: str, **kwargs) -> Call:
    """``optax.losses.<name>(prediction, target, **kwargs)``: per-example values (optax.losses
    holds every loss; only some are re-exported at the top level)."""

    def fn(fw, a):
        return getattr(fw.optax.losses, name)(a.prediction, a.target, **resolve(kwargs, a))

    return _call("optax", f"optax.losses.{name}", fn, kwargs)
