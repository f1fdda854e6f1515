"""``quadratize``: any torch model with its linear layers and convolutions made quadratic.

Every ``nn.Linear``, ``nn.Conv1d`` and ``nn.Conv2d`` of a deep copy of the model becomes the
qexpr layer of the chosen neuron with the same arguments. The new layer's linear part *is*
the old parameters (``wr`` is the old ``weight``, ``br`` the old ``bias``: the same
``nn.Parameter`` objects of the copy, so weight tying and ``requires_grad`` carry over), and
the quadratic terms start at their linear reference (wg = 0, bg = 1, wb = 0, c = 0), where
the layer computes the conventional layer's function; on the CPU bit for bit
(``tests/test_nn_quadratize.py``).

Only modules whose type is exactly one of the three are converted: subclasses (e.g. the
output projection of ``nn.MultiheadAttention``, which reads its ``weight`` directly,
parametrized or lazy modules) are left alone. A convertible module with hooks is an error,
since the hooks would be lost.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import torch
from torch import nn

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr.nn._layers import LAYER_CLASSES, QuadraticModule

__all__ = ["Quadratized", "quadratize"]

#: Parameter names of a conventional layer -> names in the qexpr layer.
_RENAMED = {"weight": "wr", "bias": "br"}

Include = Callable[[str, nn.Module], bool] | Iterable[str] | None


@dataclass(frozen=True)
class Quadratized:
    """The result of :func:`quadratize`.

    Attributes
    ----------
    model : nn.Module
        The converted deep copy (the original is untouched).
    key_map : Mapping[str, str]
        Every state-dict key of the original model -> its key in ``model``
        (``<layer>.weight`` -> ``<layer>.wr``, ``<layer>.bias`` -> ``<layer>.br``, others
        unchanged). The quadratic terms are new keys, absent from the map.
    replaced : tuple of str
        Names of the converted modules (every name of a module reachable by several).
    """

    model: nn.Module
    key_map: Mapping[str, str]
    replaced: tuple[str, ...]


def _convertible(module: nn.Module) -> bool:
    return type(module) in LAYER_CLASSES["quadratic"]


def _selector(include: Include, names: dict[str, nn.Module]) -> Callable[[str, nn.Module], bool]:
    """``include`` as a predicate; listed names must exist and be convertible."""
    if include is None:
        return lambda name, module: True
    if callable(include):
        return include
    if isinstance(include, str) or not isinstance(include, Iterable):
        raise QexprTypeError(
            f"include: expected a predicate or a list of module names, got {include!r}"
        )
    wanted = set(include)
    for name in sorted(wanted):
        if name not in names:
            raise QexprValueError(f"include: the model has no module named {name!r}")
        if not _convertible(names[name]):
            kind = type(names[name]).__name__
            raise QexprValueError(
                f"include: module {name!r} is a {kind}, not nn.Linear, nn.Conv1d or nn.Conv2d"
            )
    chosen = {id(names[name]) for name in wanted}  # a shared module under any of its names
    return lambda name, module: id(module) in chosen


def _check_hookless(name: str, module: nn.Module) -> None:
    hooks = (
        module._forward_hooks,
        module._forward_pre_hooks,
        module._backward_hooks,
        module._backward_pre_hooks,
        module._state_dict_hooks,
        module._load_state_dict_pre_hooks,
    )
    if any(hooks):
        raise QexprValueError(
            f"module {name!r}: has hooks, which conversion would drop; "
            "remove them or leave the module out with include"
        )
    if not isinstance(module.weight, nn.Parameter):
        raise QexprValueError(
            f"module {name!r}: weight is computed, not a parameter (e.g. spectral norm); "
            "remove that or leave the module out with include"
        )


def _converted(module: nn.Module, cls: type[QuadraticModule], relinear: bool):
    """The qexpr layer with ``module``'s arguments, whose wr/br are ``module``'s parameters.

    Its quadratic terms are drawn from the global random state when ``relinear`` is False.
    """
    if isinstance(module, nn.Linear):
        args: tuple = (module.in_features, module.out_features)
    else:
        args = (
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            module.groups,
        )
    options = {} if isinstance(module, nn.Linear) else {"padding_mode": module.padding_mode}
    init = "relinear" if relinear else "standard"
    layer = cls(
        *args, bias=module.bias is not None, **options, init=init, dtype=module.weight.dtype
    )
    layer = layer.to(module.weight.device)
    layer.wr = module.weight
    if module.bias is not None:
        layer.br = module.bias
    return layer.train(module.training)


def quadratize(
    model: nn.Module,
    *,
    neuron: str = "quadratic",
    include: Include = None,
    relinear: bool = True,
    seed: int = 0,
) -> Quadratized:
    """A deep copy of ``model`` whose linear layers and convolutions are qexpr layers.

    Parameters
    ----------
    model : nn.Module
        Any torch model; it is deep-copied, never modified.
    neuron : {"quadratic", "compact"}
        The neuron of the new layers: Fan's ``(wr·x+br)(wg·x+bg) + wb·(x⊙x) + c`` or the
        compact ``wr·x + br + wb·(x⊙x) + c``.
    include : callable, list of str or None
        Which modules to convert: a predicate ``include(name, module)``, a list of module
        names (as in ``model.named_modules()``; each must be an ``nn.Linear``,
        ``nn.Conv1d`` or ``nn.Conv2d``), or None for all of them.
    relinear : bool
        True: quadratic terms at their linear reference (wg = 0, bg = 1, wb = 0, c = 0), so
        the converted model computes the same function. False: drawn at random (the naive
        initialisation), which changes the function.
    seed : int
        Seed of the random draws when building the layers (``relinear=False``); the global
        random state is not touched.

    Returns
    -------
    Quadratized
        The converted model, the state-dict key map and the converted modules' names.
    """
    if neuron not in LAYER_CLASSES:
        raise QexprValueError(f"neuron: expected one of {tuple(LAYER_CLASSES)}, got {neuron!r}")
    if not isinstance(model, nn.Module):
        raise QexprTypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    if not isinstance(relinear, bool):
        raise QexprTypeError(f"relinear: expected a bool, got {relinear!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise QexprTypeError(f"seed: expected an int, got {seed!r}")
    copied = copy.deepcopy(model)
    old_keys = list(copied.state_dict())
    paths = list(copied.named_modules(remove_duplicate=False))
    select = _selector(include, dict(paths))
    chosen = [
        (name, module)
        for name, module in copied.named_modules()
        if _convertible(module) and select(name, module)
    ]
    for name, module in chosen:
        _check_hookless(name, module)
    new_of: dict[int, nn.Module] = {}
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left alone
        torch.manual_seed(seed)
        for _, module in chosen:
            new_of[id(module)] = _converted(module, LAYER_CLASSES[neuron][type(module)], relinear)
    replaced = tuple(name for name, module in paths if id(module) in new_of)
    for name, module in paths:
        if name and id(module) in new_of:
            parent, _, leaf = name.rpartition(".")
            setattr(copied.get_submodule(parent), leaf, new_of[id(module)])
    root = new_of.get(id(copied), copied)
    return Quadratized(root, MappingProxyType(_key_map(old_keys, set(replaced))), replaced)


def _key_map(keys: list[str], replaced: set[str]) -> dict[str, str]:
    """``<layer>.weight`` -> ``<layer>.wr`` and ``.bias`` -> ``.br`` for converted layers."""
    out = {}
    for key in keys:
        prefix, dot, leaf = key.rpartition(".")
        renamed = prefix in replaced and leaf in _RENAMED
        out[key] = f"{prefix}{dot}{_RENAMED[leaf]}" if renamed else key
    return out
