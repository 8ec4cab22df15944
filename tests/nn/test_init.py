"""Initialisers: fans, bounds and variances on large seeded samples, reproducibility, dtypes, the
name registry, and the layers' defaults (PyTorch's) and options (Keras's).

Expected bounds and standard deviations are the schemes' formulas evaluated on fans counted by
hand in each test; sample statistics are compared with tolerances of several standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lossgrad.errors import OptionError, ShapeError
from lossgrad.nn import Conv1D, Conv2D, Dense, init

SHAPE = (64, 32, 3, 3)  # fan_in = 32·9 = 288, fan_out = 64·9 = 576; 18 432 draws
FAN_IN, FAN_OUT = 288, 576


def rng(seed=0):
    return np.random.default_rng(seed)


def test_fans_in_pytorch_layout():
    assert init.fans(SHAPE) == (FAN_IN, FAN_OUT)
    assert init.fans((10, 4)) == (4, 10)
    with pytest.raises(ShapeError, match="at least 2 axes"):
        init.fans((5,))


UNIFORM = [
    ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("he_uniform", math.sqrt(6 / FAN_IN)),
    ("kaiming_uniform", math.sqrt(6 / FAN_IN)),
    ("torch_default", 1 / math.sqrt(FAN_IN)),
]


@pytest.mark.parametrize("name, bound", UNIFORM)
def test_uniform_schemes_fill_their_interval_with_the_uniform_variance(name, bound):
    w = init.get(name)(SHAPE, rng(), dtype=np.float64)
    assert np.max(np.abs(w)) <= bound and np.max(np.abs(w)) > 0.999 * bound
    assert abs(np.mean(w)) < 5 * bound / math.sqrt(3 * w.size)
    assert np.var(w) == pytest.approx(bound**2 / 3, rel=0.03)


@pytest.mark.parametrize("name, std", [("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
                                       ("he_normal", math.sqrt(2 / FAN_IN))])
def test_truncated_normals_have_the_scheme_std_and_no_draw_beyond_two_raw_sigmas(name, std):
    """Keras: N(0, s²) cut at ±2s, s = std / (the std of a unit normal truncated to ±2)."""
    w = init.get(name)(SHAPE, rng(), dtype=np.float64)
    raw_sigma = std / stats.truncnorm(-2, 2).std()
    assert np.max(np.abs(w)) <= 2 * raw_sigma and np.max(np.abs(w)) > 1.99 * raw_sigma
    assert np.std(w) == pytest.approx(std, rel=0.02)


def test_kaiming_uniform_gain_follows_the_negative_slope():
    a = 0.3
    w = init.kaiming_uniform(SHAPE, rng(), a, dtype=np.float64)
    bound = math.sqrt(2 / (1 + a * a)) * math.sqrt(3 / FAN_IN)
    assert bound * 0.999 < np.max(np.abs(w)) <= bound


def test_pytorch_default_bias_and_zero_fan_in():
    b = init.torch_default_bias((5000,), 25, rng(), dtype=np.float64)
    assert 0.999 * 0.2 < np.max(np.abs(b)) <= 0.2
    np.testing.assert_array_equal(init.torch_default_bias((3,), 0, rng()), np.zeros(3))


def test_same_generator_state_same_weights_and_dtype():
    for name in init.INITIALISERS:
        fn = init.get(name)
        first, again = fn((8, 6), rng(1)), fn((8, 6), rng(1))
        np.testing.assert_array_equal(first, again)
        assert first.dtype == np.float32
        assert fn((8, 6), rng(1), dtype=np.float64).dtype == np.float64
    assert not np.array_equal(init.he_normal((8, 6), rng(1)), init.he_normal((8, 6), rng(2)))


def test_zeros_draws_nothing():
    generator = rng()
    init.zeros((3, 2), generator)
    assert generator.random() == rng().random()


def test_get_takes_names_and_functions_and_lists_valid_names():
    assert init.get("glorot_uniform") is init.glorot_uniform
    assert init.get(init.zeros) is init.zeros
    with pytest.raises(OptionError) as info:
        init.get("xavier")
    assert all(name in str(info.value) for name in init.INITIALISERS)


def test_layers_default_to_pytorch_weight_then_bias_from_one_generator():
    layer = Dense(3, 2, rng=7)
    generator = rng(7)
    np.testing.assert_array_equal(layer.weight.data, init.torch_default((2, 3), generator))
    np.testing.assert_array_equal(layer.bias.data, init.torch_default_bias((2,), 3, generator))
    conv = Conv2D(4, 6, (3, 2), groups=2, rng=rng(8))
    assert conv.weight.shape == (6, 2, 3, 2)
    bound = 1 / math.sqrt(2 * 3 * 2)
    assert np.max(np.abs(conv.weight.data)) <= bound and np.max(np.abs(conv.bias.data)) <= bound


def test_layers_take_keras_initialisers_by_name_or_function():
    layer = Conv1D(3, 5, 4, weight_init="glorot_uniform", bias_init="zeros", rng=0,
                   dtype=np.float64)
    np.testing.assert_array_equal(layer.weight.data,
                                  init.glorot_uniform((5, 3, 4), rng(0), dtype=np.float64))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(5))
    custom = Dense(2, 2, weight_init=lambda shape, r, dtype: np.full(shape, 0.5, dtype))
    np.testing.assert_array_equal(custom.weight.data, np.full((2, 2), 0.5, np.float32))
    with pytest.raises(OptionError, match="floating dtype"):
        Dense(2, 2, dtype=np.int32)


@pytest.mark.live
def test_pytorch_layers_draw_from_the_same_intervals():
    """torch.nn.Linear and Conv2d defaults fill U(±1/√fan_in), the bound lossgrad computes."""
    import torch

    torch.manual_seed(0)
    for module, shape in [(torch.nn.Linear(300, 200), (200, 300)),
                          (torch.nn.Conv2d(32, 64, 3), SHAPE)]:
        bound = 1 / math.sqrt(init.fans(shape)[0])
        for p in (module.weight, module.bias):
            top = p.detach().abs().max().item()
            assert top <= bound
        assert module.weight.detach().abs().max().item() > 0.999 * bound
        assert module.weight.detach().numpy().var() == pytest.approx(bound**2 / 3, rel=0.03)
