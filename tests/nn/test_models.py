"""Ready models: mlp and lenet5 — structure and PyTorch names, forward against a NumPy composition,
end-to-end gradients in float64 (gradcheck of a tiny mlp; a tiny lenet5 by gradcheck of its smaller
tensors and a directional check of all of them), options and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.autodiff import Tensor, gradcheck
from lossgrad.errors import OptionError
from lossgrad.nn import AvgPool2D, Dense, LeNet5, MaxPool2D, Sigmoid, Tanh, lenet5, mlp
from tests import tolerances as tol

RTOL, ATOL = tol.CENTRAL


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_mlp_layers_and_names_match_a_torch_sequential():
    net = mlp([2, 3, 2, 1], "sigmoid", rng=0)
    assert [type(m) for m in net] == [Dense, Sigmoid, Dense, Sigmoid, Dense]
    assert [(name, p.shape) for name, p in net.named_parameters()] == [
        ("0.weight", (3, 2)), ("0.bias", (3,)), ("2.weight", (2, 3)), ("2.bias", (2,)),
        ("4.weight", (1, 2)), ("4.bias", (1,))]
    assert [type(m) for m in mlp([2, 2], "tanh", "sigmoid")] == [Dense, Sigmoid]
    assert [type(m) for m in mlp([2, 2, 2], None)] == [Dense, Dense]


def test_mlp_forward_is_the_composition_of_its_layers():
    net = mlp([2, 3, 2, 1], "sigmoid", "sigmoid", rng=1, dtype=np.float64)
    x = normal(4, 2)
    h = x
    for dense in net[::2]:
        h = sigmoid(h @ dense.weight.data.T + dense.bias.data)
    tol.assert_close(net(Tensor(x)).data, h, np.float64)


def test_mlp_gradcheck_end_to_end():
    net = mlp([3, 4, 2], "tanh", rng=2, dtype=np.float64)
    x = Tensor(normal(5, 3, seed=3), requires_grad=True)
    assert gradcheck(lambda x, *_: net(x).sum(), [x, *net.parameters()], rtol=RTOL, atol=ATOL)


def test_one_seed_gives_one_model():
    same = [np.array_equal(a, b) for a, b in zip(lenet5(rng=4).state_dict().values(),
                                                 lenet5(rng=4).state_dict().values())]
    assert all(same)
    other = lenet5(rng=5).state_dict()
    assert not np.array_equal(other["conv1.weight"], lenet5(rng=4).state_dict()["conv1.weight"])


def test_lenet5_names_shapes_and_forward():
    net = lenet5(in_channels=3, num_classes=7, rng=0)
    assert isinstance(net, LeNet5)
    assert {name: p.shape for name, p in net.named_parameters()} == {
        "conv1.weight": (6, 3, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5),
        "conv2.bias": (16,), "fc1.weight": (120, 400), "fc1.bias": (120,),
        "fc2.weight": (84, 120), "fc2.bias": (84,), "fc3.weight": (7, 84), "fc3.bias": (7,)}
    out = net(Tensor(normal(2, 3, 32, 32).astype(np.float32)))
    assert out.shape == (2, 7) and out.dtype == np.float32
    variant = lenet5(activation="tanh", pool="avg")
    assert isinstance(variant.act, Tanh) and isinstance(variant.pool, AvgPool2D)
    assert isinstance(net.pool, MaxPool2D)


def test_lenet5_forward_is_the_composition_of_its_layers():
    net = lenet5(num_classes=3, rng=1, dtype=np.float64)
    x = Tensor(normal(2, 1, 32, 32))
    h = net.pool(net.act(net.conv1(x)))
    h = net.pool(net.act(net.conv2(h))).reshape(2, 400)
    h = net.act(net.fc2(net.act(net.fc1(h))))
    np.testing.assert_array_equal(net(x).data, net.fc3(h).data)


def test_tiny_lenet5_gradients_end_to_end():
    """Sum of the outputs in float64: gradcheck of the biases and the first and last weights (the
    other weights hold 60 000 entries, two forward passes each), then ⟨∇, v⟩ against the central difference along random unit directions v
    that move every parameter and the input at once.

    tanh, not ReLU: among thousands of ReLU inputs some lie within a step of the kink, where
    central differences measure neither side (the ReLU network's gradients are compared with
    PyTorch's in test_live.py instead). Max pooling stays: a near-tie is far rarer.
    """
    net = lenet5(num_classes=3, activation="tanh", rng=6, dtype=np.float64)
    x = Tensor(normal(2, 1, 32, 32, seed=7), requires_grad=True)
    small = [p for name, p in net.named_parameters()
             if name.endswith("bias") or name in ("conv1.weight", "fc3.weight")]
    assert gradcheck(lambda *_: net(x).sum(), small, rtol=RTOL, atol=ATOL)

    tensors = [x, *net.parameters()]
    net.zero_grad()
    net(x).sum().backward()
    grads = [t.grad.copy() for t in tensors]
    for seed in range(3):
        directions = [normal(*t.shape, seed=100 + 10 * seed + i) for i, t in enumerate(tensors)]
        norm = np.sqrt(sum(np.sum(v * v) for v in directions))
        directions = [v / norm for v in directions]  # a step of exactly CENTRAL_STEP in all
        numeric = directional_difference(lambda: net(x).sum().item(), tensors, directions)
        analytic = sum(float(np.sum(g * v)) for g, v in zip(grads, directions))
        assert analytic == pytest.approx(numeric, rel=RTOL, abs=ATOL)


def directional_difference(f, tensors, directions, step=tol.CENTRAL_STEP):
    """(f(θ + h·v) − f(θ − h·v)) / 2h, θ the tensors' data, moved in place and restored."""
    saved = [t.data.copy() for t in tensors]
    values = []
    for sign in (1, -1):
        for t, s, v in zip(tensors, saved, directions):
            t.data[...] = s + sign * step * v
        values.append(f())
    for t, s in zip(tensors, saved):
        t.data[...] = s
    return (values[0] - values[1]) / (2 * step)


@pytest.mark.parametrize("make, fragment", [
    (lambda: mlp([3]), "at least an input and an output"),
    (lambda: mlp([3, 2], "swish"), "unknown activation"),  # checked though unused
    (lambda: mlp([3, 4, 2], "relu", "swish"), "unknown activation"),
    (lambda: lenet5(pool="min"), "pool must be one of max, avg"),
    (lambda: lenet5(activation="elu"), "unknown activation"),
])
def test_bad_model_arguments(make, fragment):
    with pytest.raises(OptionError, match=fragment):
        make()
