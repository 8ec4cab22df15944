"""Runs the real TensorFlow, Keras, PyTorch and optax on a parity spec.

The frameworks are imported by :func:`load` only — never when this module is imported, because
pytest's ``--doctest-modules`` imports every module under tests/ in the default, framework-free run.
Only tools/make_golden.py and tests/parity/test_live.py call :func:`load`.

Each runner returns (value, {input name: gradient of value.sum() with respect to that input}) as
NumPy arrays for the inputs a spec names in ``wrt`` — the quantities lossgrad's ``LossResult.grads``
holds: PyTorch autograd, ``tf.GradientTape`` watching each input around the tf.nn or Keras call
(Keras runs on its TensorFlow backend), ``jax.grad`` over a dict of the inputs around the optax call.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np


@functools.cache
def load() -> SimpleNamespace:
    """Import the frameworks once; an ImportError propagates (parity must fail, not skip)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ start-up chatter on stderr
    os.environ["KERAS_BACKEND"] = "tensorflow"  # so tf.GradientTape sees through Keras losses
    with warnings.catch_warnings():
        # Their import-time deprecation notices are not about lossgrad and would trip `-W error`.
        warnings.simplefilter("ignore")
        import jax
        import jax.numpy as jnp
        import keras
        import optax
        import tensorflow as tf
        import torch
        import torch.nn.functional as F
        from keras.src.trainers.data_adapters.data_adapter_utils import (
            class_weight_to_sample_weights,
        )
    jax.config.update("jax_enable_x64", True)  # float64 specs; float32 arrays stay float32
    return SimpleNamespace(tf=tf, keras=keras, torch=torch, F=F, jax=jax, jnp=jnp, optax=optax,
                           keras_class_weights=class_weight_to_sample_weights)


def versions() -> dict[str, str]:
    """The versions the numbers come from (NumPy too: it draws the inputs)."""
    fw = load()
    return {"tensorflow": fw.tf.__version__, "keras": fw.keras.__version__,
            "torch": fw.torch.__version__, "jax": fw.jax.__version__,
            "optax": fw.optax.__version__, "numpy": np.__version__}


def run(call, arrays: Mapping[str, np.ndarray], dtype: str, wrt=("prediction",)):
    """(value, {name: grad} for each name of ``wrt``) of a :class:`tests.parity.spec.Call` on the
    spec's NumPy inputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Keras's notes on dtype casts; not lossgrad's concern
        value, grads = _RUNNERS[call.framework](load(), call.fn, arrays, dtype, tuple(wrt))
    return np.asarray(value), {name: np.asarray(grads[name]) for name in wrt}


def _run_torch(fw, call, arrays, dtype, wrt):
    # Contiguous copies: torch.tensor keeps a NumPy view's strides, and nll_loss2d's backward then
    # raises "grad_input must be contiguous" (PyTorch 2.13) for the (N, C, d1, d2) layout. Not
    # np.ascontiguousarray: it turns a 0-d array (an unbatched target) into shape (1,).
    t = {name: fw.torch.tensor(np.array(a, order="C")) for name, a in arrays.items()}
    for name in wrt:
        t[name].requires_grad_()
    out = call(fw, SimpleNamespace(**t, dtype=dtype))
    out.sum().backward()
    # An input the loss does not reach keeps grad None; its gradient is zeros.
    return out.detach().numpy(), {name: np.zeros(arrays[name].shape, arrays[name].dtype)
                                  if t[name].grad is None else t[name].grad.numpy()
                                  for name in wrt}


def _run_tf(fw, call, arrays, dtype, wrt):
    t = {name: fw.tf.constant(a) for name, a in arrays.items()}
    sources = [t[name] for name in wrt]
    with fw.tf.GradientTape() as tape:
        tape.watch(sources)
        out = call(fw, SimpleNamespace(**t, dtype=dtype))
        total = fw.tf.reduce_sum(out)
    # A loss that ignores every entry does not depend on x: its gradient is zeros, not None.
    grads = tape.gradient(total, sources, unconnected_gradients=fw.tf.UnconnectedGradients.ZERO)
    return out.numpy(), {name: g.numpy() for name, g in zip(wrt, grads)}


def _run_jax(fw, call, arrays, dtype, wrt):
    t = {name: fw.jnp.asarray(a) for name, a in arrays.items()}

    def total(differentiated):
        out = call(fw, SimpleNamespace(**{**t, **differentiated}, dtype=dtype))
        return out.sum(), out

    (_, out), grads = fw.jax.value_and_grad(total, has_aux=True)({name: t[name] for name in wrt})
    return out, grads


_RUNNERS = {"tf": _run_tf, "keras": _run_tf, "torch": _run_torch, "optax": _run_jax}
