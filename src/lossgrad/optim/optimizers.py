"""Optimizers with PyTorch's update rules: SGD, Adam, AdamW, RMSprop.

**Parameters** are duck-typed: any object whose ``.data`` is a writeable floating NumPy array and
whose ``.grad`` is None or an array of the same shape and dtype (``lossgrad.Tensor`` is one).
``step()`` updates ``.data`` in place and never writes ``.grad``. A parameter whose grad is None is
skipped: its state, step count included, does not move (as in PyTorch). State buffers have the
parameter's dtype, so float32 weights stay float32.

**Exactness.** Each update performs the operations of ``torch.optim``'s single-tensor path (the
one PyTorch runs on CPU) in the same order, with scalars rounded to the parameter's dtype where
PyTorch rounds them. Trajectories then differ from PyTorch's only where its vector kernels fuse a
multiply-add (about an ulp a step); the golden tests (tests/optim) hold them to 1e-12 relative in
float64 and 1e-6 in float32.

**Param groups.** ``params`` is an iterable of parameters, or of dicts ``{"params": [...],
"lr": ..., ...}`` whose missing options take the constructor's values. ``optimizer.param_groups``
is that list of dicts (every option filled in); a schedule changes ``group["lr"]`` there. The
parameters of a group are fixed once added: state is kept by position.

**State dict.** ``state_dict()`` returns ``{"tensors": {...}, "meta": {...}}`` — the two arguments
``lossgrad.checkpoint.save`` takes:

- ``tensors``: one NumPy array per state buffer, named ``state/<i>/<buffer>`` (``state/0/exp_avg``),
  where ``i`` numbers the parameters across groups in order. Buffers: SGD ``momentum_buffer``
  (with momentum); Adam/AdamW ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (with amsgrad);
  RMSprop ``square_avg``, ``momentum_buffer`` (with momentum), ``grad_avg`` (centered).
- ``meta`` (JSON-able): ``{"format": 1, "optimizer": "Adam", "param_groups": [{"params": [0, 1],
  "lr": 0.001, "betas": [0.9, 0.999], ...}], "state": {"0": {"step": 3}, ...}}`` — the groups'
  options (with ``initial_lr`` once a schedule has set it) and the per-parameter step counts.

``load_state_dict`` checks the whole state first (optimizer type, group sizes, options, every
buffer's name, shape and dtype; one error lists every problem) and only then replaces the options
and state, so an optimizer that refuses a state is left as it was. Saving mid-run and loading into a
fresh optimizer over the same parameters continues bit-identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..errors import DTypeError, OptionError, ShapeError
from . import _checks

FORMAT = 1


class Optimizer:
    """Base class: param groups, per-parameter state, ``zero_grad`` and the state dict.

    A subclass declares ``OPTIONS`` (option name → check returning the stored value),
    ``SCALARS`` (the per-parameter scalar state, e.g. ``("step",)``), ``buffers(group)`` and
    ``update(w, g, state, group)``, which changes ``w`` (the parameter's array) in place.
    """

    OPTIONS: dict[str, Callable] = {}
    SCALARS: tuple[str, ...] = ()

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: list[dict] = []  # one dict per parameter, in group order
        groups = _as_list(params, "params")
        if not groups:
            raise OptionError("params is empty; pass the parameters to optimize, "
                              "e.g. model.parameters()")
        if not all(isinstance(g, dict) for g in groups):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---------------------------------------------------------------------------------------------
    # groups

    def add_param_group(self, group: dict) -> None:
        """Add a group ``{"params": [...], option: value, ...}``; unset options get the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise OptionError(f"a param group must be a dict with a 'params' entry, got {group!r}")
        unknown = sorted(set(group) - {"params"} - set(self.defaults))
        if unknown:
            raise OptionError(f"{type(self).__name__} has no option {', '.join(unknown)}; "
                              f"valid options: {', '.join(self.defaults)}")
        where = f"param_groups[{len(self.param_groups)}]['params']"
        params = _as_list(group["params"], where)
        for j, p in enumerate(params):
            _check_param(p, f"{where}[{j}]")
        seen = {id(p) for p in self._params()}
        if len({id(p) for p in params}) < len(params) or seen & {id(p) for p in params}:
            raise OptionError(f"{where}: a parameter appears more than once across the param "
                              "groups; give each parameter to one group, once")
        options = self._checked({**self.defaults, **group})
        self.param_groups.append({"params": params, **options})
        self.state.extend({} for _ in params)

    def _checked(self, group: dict) -> dict:
        """The group's options, each checked and normalised (Python floats, tuples)."""
        options = {name: check(name, group[name]) for name, check in self.OPTIONS.items()}
        if "initial_lr" in group:
            options["initial_lr"] = _checks.nonnegative("initial_lr", group["initial_lr"])
        self.check_combination(options)
        return options

    def check_combination(self, options: dict) -> None:
        """Raise OptionError for options that are valid alone but not together (SGD's Nesterov)."""

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def _layout(self) -> list[list[int]]:
        """The parameters' indices, group by group (how the state dict names the groups)."""
        return [[i for i, in_group, _, _ in self._members() if in_group == index]
                for index in range(len(self.param_groups))]

    def _members(self):
        """(index, group index, address, parameter) of every parameter, in group order."""
        i = 0
        for index, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                yield i, index, f"param_groups[{index}]['params'][{j}]", p
                i += 1

    # ---------------------------------------------------------------------------------------------
    # stepping

    def step(self) -> None:
        """Update every parameter that has a gradient, in place.

        Every gradient is checked before any weight changes, so a bad one leaves all weights as
        they were.
        """
        todo = [(i, index, _checked_grad(p, where), p) for i, index, where, p in self._members()
                if p.grad is not None]
        for i, index, grad, p in todo:
            self.update(p.data, grad, self.state[i], self.param_groups[index])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (PyTorch's default), or fill them with zeros."""
        for p in self._params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def buffers(self, group: dict) -> tuple[str, ...]:
        """The state arrays a parameter of this group has once it has been stepped."""
        raise NotImplementedError

    def update(self, w: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        """One step of one parameter: change ``w`` in place; never write ``g``."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------------------
    # state dict

    def state_dict(self) -> dict:
        """``{"tensors": {name: array}, "meta": JSON-able dict}`` (see the module docstring)."""
        tensors = {f"state/{i}/{name}": np.array(a) for i, s in enumerate(self.state)
                   for name, a in s.items() if isinstance(a, np.ndarray)}
        scalars = {str(i): {name: s[name] for name in self.SCALARS if name in s}
                   for i, s in enumerate(self.state)}
        groups = [{"params": indices, **{k: list(v) if isinstance(v, tuple) else v
                                         for k, v in group.items() if k != "params"}}
                  for indices, group in zip(self._layout(), self.param_groups)]
        meta = {"format": FORMAT, "optimizer": type(self).__name__, "param_groups": groups,
                "state": {i: values for i, values in scalars.items() if values}}
        return {"tensors": tensors, "meta": meta}

    def load_state_dict(self, state_dict: dict) -> None:
        """Replace the options and state with a :meth:`state_dict`'s (checked first, in full)."""
        tensors, meta = _parts(state_dict)
        name = type(self).__name__
        if meta.get("format") != FORMAT or meta.get("optimizer") != name:
            raise OptionError(f"the state is format {meta.get('format')!r} of "
                              f"{meta.get('optimizer')!r}; this is format {FORMAT} of {name}: "
                              f"load a state saved by a {name}")
        options = self._loaded_options(meta.get("param_groups"))
        state = self._loaded_state(tensors, meta.get("state", {}), options)
        for group, opts in zip(self.param_groups, options):
            group.clear()
            group.update(opts)
        self.state = state

    def _loaded_options(self, groups) -> list[dict]:
        """Each group's options from the state, checked; their parameters are this optimizer's."""
        layout = ([g.get("params") if isinstance(g, dict) else g for g in groups]
                  if isinstance(groups, list) else groups)
        if layout != self._layout():
            raise ShapeError(f"the state's param groups hold parameters {layout}; this optimizer's "
                             f"hold {self._layout()}: build the optimizer over the same "
                             "parameters, grouped the same way")
        loaded = []
        for index, (group, current) in enumerate(zip(groups, self.param_groups)):
            missing = sorted(set(self.OPTIONS) - set(group))
            unknown = sorted(set(group) - set(self.OPTIONS) - {"params", "initial_lr"})
            if missing or unknown:
                raise OptionError(f"param_groups[{index}] of the state: missing options {missing}, "
                                  f"unknown options {unknown}; valid: {', '.join(self.OPTIONS)}")
            loaded.append({"params": current["params"], **self._checked(group)})
        return loaded

    def _loaded_state(self, tensors: dict, scalars: dict, groups: list[dict]) -> list[dict]:
        """The per-parameter state dicts, or one ShapeError listing every misfit."""
        state = [{} for _ in self.state]
        problems = []
        for key, array in tensors.items():
            parts = key.split("/")
            named = len(parts) == 3 and parts[0] == "state" and parts[1].isdigit()
            i = int(parts[1]) if named else -1
            if not 0 <= i < len(state):
                problems.append(f"unexpected tensor {key!r}")
            else:
                state[i][parts[2]] = array
        for key, values in scalars.items():
            i = int(key) if key.isdigit() else -1
            if not 0 <= i < len(state) or not isinstance(values, dict):
                problems.append(f"unexpected state entry {key!r}")
            else:
                state[i].update(values)
        for i, index, where, p in self._members():
            if state[i]:
                problems += self._misfits(state[i], p.data, groups[index], f"state/{i} ({where})")
        if problems:
            raise ShapeError("the optimizer state does not fit: " + "; ".join(problems))
        return [{k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v
                 for k, v in s.items()} for s in state]

    def _misfits(self, state: dict, w: np.ndarray, group: dict, where: str) -> list[str]:
        expected = set(self.buffers(group)) | set(self.SCALARS)
        problems = [f"{where}: missing {k!r}" for k in sorted(expected - set(state))]
        problems += [f"{where}: unexpected {k!r}" for k in sorted(set(state) - expected)]
        for k in sorted(expected & set(state)):
            v = state[k]
            if k in self.SCALARS:
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    problems.append(f"{where}/{k} must be an integer ≥ 0, got {v!r}")
            elif not isinstance(v, np.ndarray) or v.shape != w.shape or v.dtype != w.dtype:
                got = f"{v.dtype}{list(v.shape)}" if isinstance(v, np.ndarray) else repr(v)
                problems.append(f"{where}/{k} is {got}, expected {w.dtype}{list(w.shape)}")
        return problems


def _parts(state_dict) -> tuple[dict, dict]:
    if (not isinstance(state_dict, dict) or set(state_dict) != {"tensors", "meta"}
            or not all(isinstance(v, dict) for v in state_dict.values())):
        got = ({k: type(v).__name__ for k, v in state_dict.items()} if isinstance(state_dict, dict)
               else type(state_dict).__name__)
        raise OptionError(f"a state dict is {{'tensors': dict, 'meta': dict}}, got {got}; "
                          "pass what optimizer.state_dict() returned")
    return state_dict["tensors"], state_dict["meta"]


def _as_list(params, name: str) -> list:
    """A list of the parameters; a lone parameter is refused as PyTorch refuses it."""
    if hasattr(params, "data") or isinstance(params, (np.ndarray, str, bytes)):
        raise DTypeError(f"{name} must be an iterable of parameters (or of param-group dicts), got "
                         f"a single {type(params).__name__}; wrap it in a list: [param]")
    if not isinstance(params, Iterable):
        raise DTypeError(f"{name} must be an iterable of parameters, got {type(params).__name__}")
    return list(params)


def _check_param(p, where: str) -> None:
    data = getattr(p, "data", None)
    if not hasattr(p, "grad") or not isinstance(data, np.ndarray) or data.dtype.kind != "f":
        got = f"dtype {data.dtype}" if isinstance(data, np.ndarray) else type(p).__name__
        raise DTypeError(f"{where} must have .data (a floating NumPy array) and .grad, got {got}; "
                         "pass the model's parameters (Tensors with requires_grad=True)")
    if not data.flags.writeable:
        raise OptionError(f"{where}.data is read-only, but optimizers update it in place; "
                          "give the parameter a writeable copy: np.array(data)")


def _checked_grad(p, where: str) -> np.ndarray:
    g, w = p.grad, p.data
    if not isinstance(g, np.ndarray):
        raise DTypeError(f"{where}.grad must be a NumPy array or None, got {type(g).__name__}")
    if g.shape != w.shape:
        raise ShapeError(f"{where}.grad has shape {g.shape}, its parameter {w.shape}; a gradient "
                         "has its parameter's shape (sum over broadcast axes before the step)")
    if g.dtype != w.dtype:
        raise DTypeError(f"{where}.grad is {g.dtype}, its parameter {w.dtype}; "
                         f"cast the gradient: grad.astype(np.{w.dtype})")
    return g


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start ← start + weight·(end − start) in place, in PyTorch's lerp form.

    PyTorch switches to end − (end − start)·(1 − weight) once weight ≥ 0.5, which is exact at
    weight = 1; the weight is rounded to the array's dtype first, as PyTorch rounds it.
    """
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        start += w * (end - start)
    else:
        start[...] = end - (end - start) * (1 - w)


def _zeros(state: dict, name: str, like: np.ndarray) -> np.ndarray:
    if name not in state:
        state[name] = np.zeros_like(like)
    return state[name]


# -------------------------------------------------------------------------------------------------
# the optimizers


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

    With g ← −g when maximizing, then g ← g + λθ (weight decay), then, with momentum μ,
    b ← g on the first step and b ← μb + (1 − τ)g after (τ the dampening), g ← g + μb with
    Nesterov or g ← b without; finally θ ← θ − γg. Equals ``torch.optim.SGD``.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> w = SimpleNamespace(data=np.array([1.0, -2.0]), grad=np.array([0.5, 0.5]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> opt.step(); opt.step()
    >>> print(np.round(w.data, 4))
    [ 0.855 -2.145]
    """

    OPTIONS = {"lr": _checks.nonnegative, "momentum": _checks.nonnegative,
               "dampening": _checks.finite, "nesterov": _checks.flag,
               "weight_decay": _checks.nonnegative, "maximize": _checks.flag}

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0, maximize: bool = False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "nesterov": nesterov, "weight_decay": weight_decay,
                                  "maximize": maximize})

    def check_combination(self, options: dict) -> None:
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise OptionError(f"nesterov=True needs momentum > 0 and dampening = 0, got "
                              f"momentum={options['momentum']}, dampening={options['dampening']}; "
                              "set momentum (e.g. 0.9) or nesterov=False")

    def buffers(self, group: dict) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def update(self, w, g, state, group) -> None:
        g = -g if group["maximize"] else g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * w
        momentum = group["momentum"]
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g)  # the first step takes g undamped
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + momentum * buf if group["nesterov"] else buf
        w -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), with L2 weight decay added to the gradient and the AMSGrad variant.

    With t the parameter's step count: g ← g + λθ; m ← m + (1 − β₁)(g − m);
    v ← β₂v + (1 − β₂)g²; v̂ = max(v̂, v) with amsgrad (else v̂ = v);
    θ ← θ − (γ / (1 − β₁ᵗ))·m / (√v̂ / √(1 − β₂ᵗ) + ε). Equals ``torch.optim.Adam``.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> w = SimpleNamespace(data=np.array([1.0, -2.0]), grad=np.array([0.5, -4.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> opt.step()
    >>> print(np.round(w.data, 4))
    [ 0.9 -1.9]
    """

    OPTIONS = {"lr": _checks.nonnegative, "betas": _checks.betas, "eps": _checks.nonnegative,
               "weight_decay": _checks.nonnegative, "amsgrad": _checks.flag,
               "maximize": _checks.flag}
    SCALARS = ("step",)
    _DECOUPLED = False  # AdamW: decay the weights directly instead of adding λθ to the gradient

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize})

    def buffers(self, group: dict) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def update(self, w, g, state, group) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        t = state["step"] = state.get("step", 0) + 1
        g = -g if group["maximize"] else g
        if decay != 0:
            if self._DECOUPLED:
                w *= 1 - lr * decay
            else:
                g = g + decay * w
        m, v = _zeros(state, "exp_avg", w), _zeros(state, "exp_avg_sq", w)
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v_max = _zeros(state, "max_exp_avg_sq", w)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = lr / (1 - beta1**t)
        denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + group["eps"]
        w += (-step_size * m) / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ(1 − γλ) before the Adam step.

    The decay never enters m or v. Default λ = 0.01. Equals ``torch.optim.AdamW``.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> w = SimpleNamespace(data=np.array([1.0, -2.0]), grad=np.array([0.5, -4.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> opt.step()
    >>> print(np.round(w.data, 4))
    [ 0.85 -1.8 ]
    """

    _DECOUPLED = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop with optional momentum, centering and L2 weight decay.

    g ← g + λθ; s ← αs + (1 − α)g²; centered: ḡ ← ḡ + (1 − α)(g − ḡ) and a = √(s − ḡ²), else
    a = √s; a ← a + ε; with momentum μ: b ← μb + g/a, θ ← θ − γb; without: θ ← θ − γg/a.
    Equals ``torch.optim.RMSprop``.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> w = SimpleNamespace(data=np.array([1.0, -2.0]), grad=np.array([0.5, -4.0]))
    >>> opt = RMSprop([w], lr=0.01)
    >>> opt.step()
    >>> print(np.round(w.data, 4))
    [ 0.9 -1.9]
    """

    OPTIONS = {"lr": _checks.nonnegative, "alpha": _checks.unit, "eps": _checks.nonnegative,
               "weight_decay": _checks.nonnegative, "momentum": _checks.nonnegative,
               "centered": _checks.flag, "maximize": _checks.flag}
    SCALARS = ("step",)

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def buffers(self, group: dict) -> tuple[str, ...]:
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def update(self, w, g, state, group) -> None:
        alpha = group["alpha"]
        state["step"] = state.get("step", 0) + 1
        g = -g if group["maximize"] else g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * w
        s = _zeros(state, "square_avg", w)
        s *= alpha
        s += (1 - alpha) * g * g
        if group["centered"]:
            mean = _zeros(state, "grad_avg", w)
            _lerp_(mean, g, 1 - alpha)
            avg = np.sqrt(s - mean * mean)
        else:
            avg = np.sqrt(s)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = _zeros(state, "momentum_buffer", w)
            buf *= group["momentum"]
            buf += g / avg
            w -= group["lr"] * buf
        else:
            w += (-group["lr"] * g) / avg
