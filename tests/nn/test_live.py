"""lossgrad.nn against the installed PyTorch (marker ``live``): every layer's output and gradients
(input and parameters) with the same weights copied into the torch.nn module, and LeNet-5 / mlp
state dicts loading into the equivalent PyTorch modules and back with the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad import nn
from lossgrad.autodiff import Tensor
from tests import tolerances as tol
from tests.torch_models import torch_lenet5

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def torch():
    import torch

    return torch


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


#: (id, lossgrad layer factory(dtype), torch module factory(torch.nn), input shape)
LAYERS = [
    ("dense", lambda d: nn.Dense(5, 3, rng=0, dtype=d), lambda t: t.Linear(5, 3), (4, 5)),
    ("dense-no-bias", lambda d: nn.Linear(5, 3, bias=False, rng=0, dtype=d),
     lambda t: t.Linear(5, 3, bias=False), (2, 3, 5)),
    ("conv1d", lambda d: nn.Conv1D(4, 6, 3, stride=2, padding=1, groups=2, rng=1, dtype=d),
     lambda t: t.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 9)),
    ("conv1d-same", lambda d: nn.Conv1D(3, 2, 4, padding="same", dilation=2, rng=2, dtype=d),
     lambda t: t.Conv1d(3, 2, 4, padding="same", dilation=2), (2, 3, 8)),
    ("conv2d", lambda d: nn.Conv2D(3, 4, (3, 2), (2, 1), (1, 0), (1, 2), rng=3, dtype=d),
     lambda t: t.Conv2d(3, 4, (3, 2), (2, 1), (1, 0), (1, 2)), (2, 3, 7, 6)),
    ("conv2d-depthwise", lambda d: nn.Conv2D(4, 4, 3, padding="same", groups=4, bias=False,
                                             rng=4, dtype=d),
     lambda t: t.Conv2d(4, 4, 3, padding="same", groups=4, bias=False), (2, 4, 5, 5)),
    ("maxpool1d", lambda d: nn.MaxPool1D(3, 2, 1), lambda t: t.MaxPool1d(3, 2, 1), (2, 3, 9)),
    ("maxpool2d", lambda d: nn.MaxPool2D(2), lambda t: t.MaxPool2d(2), (2, 3, 6, 6)),
    ("maxpool2d-dilated", lambda d: nn.MaxPool2D(3, 1, 1, 2),
     lambda t: t.MaxPool2d(3, 1, 1, 2), (1, 2, 7, 7)),
    ("avgpool1d", lambda d: nn.AvgPool1D(3, 2, 1), lambda t: t.AvgPool1d(3, 2, 1), (2, 3, 9)),
    ("avgpool2d", lambda d: nn.AvgPool2D(2), lambda t: t.AvgPool2d(2), (2, 3, 6, 6)),
    ("avgpool2d-exclude-pad", lambda d: nn.AvgPool2D(3, 2, 1, count_include_pad=False),
     lambda t: t.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 7, 6)),
    ("flatten", lambda d: nn.Flatten(), lambda t: t.Flatten(), (2, 3, 4, 5)),
    ("relu", lambda d: nn.ReLU(), lambda t: t.ReLU(), (3, 4)),
    ("sigmoid", lambda d: nn.Sigmoid(), lambda t: t.Sigmoid(), (3, 4)),
    ("tanh", lambda d: nn.Tanh(), lambda t: t.Tanh(), (3, 4)),
    ("gelu", lambda d: nn.GELU(), lambda t: t.GELU(), (3, 4)),
    ("gelu-tanh", lambda d: nn.GELU("tanh"), lambda t: t.GELU("tanh"), (3, 4)),
    ("softmax", lambda d: nn.Softmax(1), lambda t: t.Softmax(dim=1), (3, 4, 2)),
    ("log-softmax", lambda d: nn.LogSoftmax(), lambda t: t.LogSoftmax(dim=-1), (3, 4)),
    ("dropout-eval", lambda d: nn.Dropout(0.5).eval(), lambda t: t.Dropout(0.5).eval(), (3, 4)),
]


def same_weights(torch, ours, theirs, dtype):
    """theirs (a torch module) in our dtype, holding our weights (PyTorch's names, strict)."""
    theirs = theirs.to(getattr(torch, np.dtype(dtype).name))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return theirs


def assert_framework_close(actual, expected, dtype, what):
    tol.assert_close(actual, expected, dtype, table=tol.FRAMEWORK, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ours, theirs, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_output_and_gradients_equal_torch_nn(torch, name, ours, theirs, shape, dtype):
    layer = ours(dtype)
    module = same_weights(torch, layer, theirs(torch.nn), dtype)
    x = normal(*shape, seed=1).astype(dtype)
    u = normal(*layer(Tensor(x)).shape, seed=2).astype(dtype)
    t = Tensor(x, requires_grad=True)
    out = layer(t)
    out.backward(u)
    tt = torch.tensor(x, requires_grad=True)
    ref = module(tt)
    ref.backward(torch.from_numpy(u))
    assert_framework_close(out.data, ref.detach().numpy(), dtype, f"{name} output")
    assert_framework_close(t.grad, tt.grad.numpy(), dtype, f"{name} input gradient")
    theirs_params = dict(module.named_parameters())
    assert [n for n, _ in layer.named_parameters()] == list(theirs_params)
    for n, p in layer.named_parameters():
        assert_framework_close(p.grad, theirs_params[n].grad.numpy(), dtype, f"{name} {n}")


@pytest.mark.parametrize("activation, pool, in_channels", [("relu", "max", 1), ("tanh", "avg", 3)])
def test_lenet5_weights_load_into_pytorch_and_back(torch, activation, pool, in_channels):
    ours = nn.lenet5(in_channels, 10, activation, pool, rng=0)
    theirs = torch_lenet5(torch, in_channels, 10, activation, pool)
    x = normal(8, in_channels, 32, 32, seed=3).astype(np.float32)

    # lossgrad → PyTorch: same outputs, same parameter gradients of the summed outputs
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    out = ours(Tensor(x))
    out.sum().backward()
    ref = theirs(torch.from_numpy(x))
    ref.sum().backward()
    assert_framework_close(out.data, ref.detach().numpy(), np.float32, "lenet5 output")
    for name, p in theirs.named_parameters():
        assert_framework_close(dict(ours.named_parameters())[name].grad, p.grad.numpy(),
                               np.float32, name)

    # PyTorch → lossgrad: a fresh PyTorch initialisation, loaded strictly, gives its outputs
    fresh = torch_lenet5(torch, in_channels, 10, activation, pool)
    ours.load_state_dict({k: v.numpy() for k, v in fresh.state_dict().items()})
    assert_framework_close(ours(Tensor(x)).data, fresh(torch.from_numpy(x)).detach().numpy(),
                           np.float32, "lenet5 output after loading PyTorch's weights")
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy())


def test_mlp_state_dict_loads_into_a_torch_sequential(torch):
    ours = nn.mlp([2, 3, 2, 1], "sigmoid", "sigmoid", rng=0, dtype=np.float64)
    t = torch.nn
    theirs = t.Sequential(t.Linear(2, 3), t.Sigmoid(), t.Linear(3, 2), t.Sigmoid(), t.Linear(2, 1),
                          t.Sigmoid()).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert_framework_close(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(),
                           np.float64, "mlp output")
