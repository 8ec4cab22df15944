"""Layers: each forward equals its formula or functional op with the layer's own weights, the
parameter gradients pass gradcheck, Dropout obeys train/eval and its seed, bad arguments raise."""

from __future__ import annotations

import numpy as np
import pytest

import lossgrad.autodiff as ad
from lossgrad.autodiff import Tensor, gradcheck
from lossgrad.autodiff import conv as functional
from lossgrad.errors import OptionError
from lossgrad.nn import (
    ACTIVATIONS,
    GELU,
    AvgPool1D,
    AvgPool2D,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Linear,
    LogSoftmax,
    MaxPool1D,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    activation,
)
from tests import tolerances as tol

RTOL, ATOL = tol.CENTRAL


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_dense_is_x_times_w_transposed_plus_b_on_the_last_axis():
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    x = normal(4, 5, 3)
    expected = x @ layer.weight.data.T + layer.bias.data
    tol.assert_close(layer(Tensor(x)).data, expected, np.float64)
    assert Linear is Dense
    assert Dense(3, 2, bias=False).bias is None


@pytest.mark.parametrize("layer, x_shape", [
    (Dense(3, 2, rng=0, dtype=np.float64), (4, 3)),
    (Dense(3, 2, bias=False, rng=0, dtype=np.float64), (3,)),
    (Conv1D(4, 6, 3, stride=2, padding=1, groups=2, rng=1, dtype=np.float64), (2, 4, 7)),
    (Conv2D(2, 3, (2, 3), padding="same", dilation=(2, 1), rng=2, dtype=np.float64), (2, 2, 5, 4)),
    (Conv2D(2, 3, 3, bias=False, rng=3, dtype=np.float64), (2, 5, 5)),
], ids=["dense", "dense-no-bias", "conv1d", "conv2d-same", "conv2d-unbatched"])
def test_layer_gradients_pass_gradcheck(layer, x_shape):
    x = Tensor(normal(*x_shape, seed=4), requires_grad=True)
    params = layer.parameters()

    def run(x, *_):  # the parameters are perturbed in place by gradcheck; the layer reads them
        return layer(x)

    assert gradcheck(run, [x, *params], rtol=RTOL, atol=ATOL)


def test_conv_layers_call_the_functional_op_with_their_arguments():
    layer = Conv2D(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2, rng=0)
    x = Tensor(normal(2, 4, 7, 8).astype(np.float32))
    expected = functional.conv2d(x, layer.weight, layer.bias, (2, 1), 1, (1, 2), 2)
    np.testing.assert_array_equal(layer(x).data, expected.data)
    layer1 = Conv1D(2, 2, 3, padding="valid", rng=1)
    x1 = Tensor(normal(1, 2, 6).astype(np.float32))
    np.testing.assert_array_equal(layer1(x1).data,
                                  functional.conv1d(x1, layer1.weight, layer1.bias).data)


@pytest.mark.parametrize("layer, op, x_shape", [
    (MaxPool1D(3, 2, 1, 2), lambda x: functional.max_pool1d(x, 3, 2, 1, 2), (2, 3, 9)),
    (MaxPool2D(2), lambda x: functional.max_pool2d(x, 2), (2, 3, 6, 6)),
    (AvgPool1D(3, 1, 1, False), lambda x: functional.avg_pool1d(x, 3, 1, 1, False), (2, 3, 9)),
    (AvgPool2D((2, 3)), lambda x: functional.avg_pool2d(x, (2, 3)), (2, 3, 6, 6)),
    (Flatten(), lambda x: x.reshape(2, -1), (2, 3, 4, 5)),
    (Flatten(0, 1), lambda x: x.reshape(6, 4, 5), (2, 3, 4, 5)),
    (ReLU(), ad.relu, (3, 4)),
    (Sigmoid(), ad.sigmoid, (3, 4)),
    (Tanh(), ad.tanh, (3, 4)),
    (GELU(), ad.gelu, (3, 4)),
    (GELU("tanh"), lambda x: ad.gelu(x, approximate="tanh"), (3, 4)),
    (Softmax(0), lambda x: ad.softmax(x, 0), (3, 4)),
    (LogSoftmax(), ad.log_softmax, (3, 4)),
], ids=lambda v: type(v).__name__)
def test_parameterless_layers_apply_their_op(layer, op, x_shape):
    x = Tensor(normal(*x_shape, seed=5))
    np.testing.assert_array_equal(layer(x).data, op(x).data)
    assert layer.parameters() == []


def test_activation_names():
    assert [type(activation(name)).__name__ for name in ACTIVATIONS] == [
        "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax"]
    with pytest.raises(OptionError, match="valid names: relu"):
        activation("swish")


def test_dropout_is_active_only_in_training_and_follows_its_seed():
    x = Tensor(np.ones((200, 50)))
    drop = Dropout(0.3, rng=0)
    out = drop(x).data
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.02)
    np.testing.assert_array_equal(Dropout(0.3, rng=0)(x).data, out)  # same seed, same mask
    assert not np.array_equal(drop(x).data, out)  # the generator moves on
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x.data)
    np.testing.assert_array_equal(Dropout(0.0)(x).data, x.data)
    for p in (-0.1, 1.5, True):
        with pytest.raises(OptionError, match="probability"):
            Dropout(p)


def test_dropout_gradient_uses_the_same_mask():
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    out = Dropout(0.5, rng=1)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # ∂(mask·x/(1−p))/∂x = mask/(1−p)


@pytest.mark.parametrize("make, fragment", [
    (lambda: Dense(0, 2), "in_features must be an int ≥ 1"),
    (lambda: Dense(2.0, 2), "in_features"),
    (lambda: Conv2D(3, 4, 3, groups=2), "divisible by groups"),
    (lambda: Conv2D(2, 4, (3, 3, 3)), "kernel_size must be"),
    (lambda: Conv1D(2, 4, 3, stride=0), "stride must be"),
    (lambda: Conv2D(2, 4, 3, stride=2, padding="same"), "needs stride 1"),
    (lambda: Conv1D(2, 4, 3, padding="full"), "padding must be"),
    (lambda: Dense(2, 2, weight_init="lecun"), "unknown initialiser"),
])
def test_bad_layer_arguments_raise_option_errors(make, fragment):
    with pytest.raises(OptionError, match=fragment):
        make()


def test_reprs_name_the_arguments():
    assert repr(Dense(2, 3)) == "Dense(in_features=2, out_features=3, bias=True)"
    assert repr(Conv1D(2, 4, 3, stride=2, groups=2)) == (
        "Conv1D(2, 4, kernel_size=(3,), stride=(2,), groups=2)")
    assert repr(AvgPool2D(2, padding=1, count_include_pad=False)) == (
        "AvgPool2D(kernel_size=2, stride=2, padding=1, count_include_pad=False)")
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(GELU("tanh")) == "GELU(approximate='tanh')"
