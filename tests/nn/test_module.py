"""Module, Parameter and Sequential: registration order and PyTorch's dotted names, shared
parameters, state_dict / load_state_dict (round trip, one error listing every bad key, strict=False),
train/eval, zero_grad, repr, and the guards against silent mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.autodiff import Tensor
from lossgrad.errors import DTypeError, OptionError, ShapeError
from lossgrad.nn import Conv2D, Dense, Dropout, Module, Parameter, ReLU, Sequential


class Block(Module):
    """Parameters and sub-modules assigned in a deliberate, non-alphabetical order."""

    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.ones(3))
        self.body = Sequential(Dense(3, 4, rng=0, dtype=np.float64), ReLU(),
                               Dense(4, 2, rng=1, dtype=np.float64))
        self.alpha = Parameter(np.zeros(()))
        self.drop = Dropout(0.5, rng=2)
        self.note = "not registered"

    def forward(self, x):
        return self.drop(self.body(x * self.scale)) + self.alpha


NAMES = ["scale", "alpha", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]


def test_names_follow_assignment_order_own_parameters_first():
    """PyTorch's order: a module's own parameters, then each child's, children in order."""
    block = Block()
    assert [name for name, _ in block.named_parameters()] == NAMES
    assert [p.shape for p in block.parameters()] == [(3,), (), (4, 3), (4,), (2, 4), (2,)]
    assert list(block.state_dict()) == NAMES
    assert [type(c).__name__ for c in block.children()] == ["Sequential", "Dropout"]


def test_reassigning_keeps_the_position_and_none_removes():
    block = Block()
    block.scale = Parameter(np.full(3, 2.0))
    assert block.named_parameters()[0][0] == "scale"
    block.scale = None
    assert "scale" not in block.state_dict()
    block.scale = Parameter(np.zeros(3))
    assert list(block.state_dict())[:2] == ["alpha", "scale"]  # re-added after its level's others
    del block.body
    assert list(block.state_dict()) == ["alpha", "scale"]


def test_a_shared_parameter_is_one_parameter_with_every_name_in_the_state():
    first = Dense(2, 2, rng=0)
    net = Sequential(first, Dense(2, 2, rng=1))
    net[1].weight = first.weight
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_state_dict_round_trip_restores_outputs_and_is_a_copy():
    block, other = Block().eval(), Block().eval()
    for p in other.parameters():
        p.data[...] = np.random.default_rng(3).standard_normal(p.shape)
    x = Tensor(np.random.default_rng(4).standard_normal((5, 3)))
    state = other.state_dict()
    other.body[0].weight.data += 1  # a later update must not reach the saved state
    assert not np.array_equal(state["body.0.weight"], other.body[0].weight.data)
    kept = [p for p in block.parameters()]
    result = block.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert all(a is b for a, b in zip(kept, block.parameters()))  # loaded in place
    other.body[0].weight.data -= 1
    np.testing.assert_array_equal(block(x).data, other(x).data)


def test_load_state_dict_lists_every_bad_key_in_one_error_and_changes_nothing():
    block = Block()
    before = block.state_dict()
    state = block.state_dict()
    del state["alpha"], state["body.2.bias"]
    state["extra.weight"] = np.zeros(2)
    state["body.0.weight"] = np.zeros((3, 4))
    state["scale"] = state["scale"].astype(np.float32)
    with pytest.raises(ShapeError) as info:
        block.load_state_dict(state)
    message = str(info.value)
    for fragment in ("'alpha'", "'body.2.bias'", "'extra.weight'", "'body.0.weight' has shape (3, 4)",
                     "'scale' has dtype float32"):
        assert fragment in message
    for name, value in block.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_non_strict_load_reports_missing_and_unexpected_but_refuses_shapes():
    block = Block()
    state = {"scale": np.full(3, 5.0), "extra": np.zeros(1)}
    result = block.load_state_dict(state, strict=False)
    assert result.missing_keys == NAMES[1:] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(block.scale.data, np.full(3, 5.0))
    with pytest.raises(ShapeError, match="'scale' has shape"):
        block.load_state_dict({"scale": np.zeros(4)}, strict=False)


def test_train_and_eval_switch_every_submodule_and_dropout():
    block = Block()
    x = Tensor(np.ones((64, 3)))
    assert block.training and block.drop.training
    assert block.eval() is block
    assert not any(m.training for m in (block, block.body, block.body[1], block.drop))
    np.testing.assert_array_equal(block.drop(x).data, x.data)
    block.train()
    assert all(m.training for m in (block, block.body, block.drop))
    dropped = block.drop(x).data
    assert set(np.unique(dropped)) == {0.0, 2.0}
    with pytest.raises(OptionError):
        block.train("no")


def test_zero_grad_forgets_every_gradient():
    block = Block()
    block(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_sequential_indexing_slicing_iteration_and_forward():
    layers = [Dense(3, 4, rng=0), ReLU(), Dense(4, 2, rng=1)]
    net = Sequential(*layers)
    assert len(net) == 3 and net[0] is layers[0] and net[-1] is layers[2]
    assert list(net) == layers
    head = net[:2]
    assert isinstance(head, Sequential) and list(head) == layers[:2]
    x = Tensor(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(net(x).data, layers[2](layers[1](layers[0](x))).data)
    with pytest.raises(DTypeError, match="argument 1 is a function"):
        Sequential(Dense(1, 1), lambda t: t)


def test_repr_shows_the_tree():
    net = Sequential(Conv2D(1, 2, 3, padding=1, bias=False), ReLU())
    assert repr(net) == ("Sequential(\n"
                         "  (0): Conv2D(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), "
                         "bias=False)\n"
                         "  (1): ReLU()\n"
                         ")")
    assert repr(Parameter(np.zeros(2))) == "Parameter([0., 0.], requires_grad=True)"


def test_guards_against_silent_mistakes():
    layer = Dense(2, 2)
    with pytest.raises(DTypeError, match="weight is a Parameter"):
        layer.weight = layer.weight * 2  # would drop the weight from training

    class Forgetful(Module):
        def __init__(self):
            self.w = Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before"):
        Forgetful()
    with pytest.raises(NotImplementedError):
        Module()(1)
