"""The architecture vocabulary: one name per kind of network compared in qexpr.

A *kind* is a neuron type (see :data:`qexpr.NEURONS`) and a hidden activation; the output
layer has the same neuron type and no activation. The same four names are used by
:func:`qexpr.random_network`, :func:`qexpr.kind_bounds`, :func:`qexpr.neurovariety_dimension`
(the polynomial kinds), the command line, sweeps and :mod:`qexpr.nn`:

=========  ==================  =================  ====================================
kind       neuron              hidden activation  network
=========  ==================  =================  ====================================
quadratic  quadratic (Fan)     relu               quadratic ReLU network
compact    compact             relu               compact quadratic ReLU network
relu       linear              relu               conventional ReLU network
square     linear              square (z²)        conventional z² network (polynomial)
=========  ==================  =================  ====================================

Spellings of earlier releases still work for one release with a :class:`DeprecationWarning`:
``"conv"`` (the dimension's name for ``square``) and ``"linear"`` (``qexpr.nn``'s name for
the conventional twin, ``relu``).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from types import MappingProxyType
from typing import NamedTuple

from qexpr._errors import QexprValueError

__all__ = ["KINDS", "Kind", "resolve_kind"]


class Kind(NamedTuple):
    """A kind of network: its neuron type and its hidden activation."""

    neuron: str
    activation: str


#: Every kind by name (see the module docstring).
KINDS = MappingProxyType(
    {
        "quadratic": Kind("quadratic", "relu"),
        "relu": Kind("linear", "relu"),
        "square": Kind("linear", "square"),
        "compact": Kind("compact", "relu"),
    }
)

#: Old spellings and the kind each now names.
DEPRECATED_KINDS = MappingProxyType({"conv": "square", "linear": "relu"})


def resolve_kind(name: object, choices: Collection[str] = tuple(KINDS)) -> str:
    """The canonical kind called ``name``, one of ``choices``.

    An old spelling (:data:`DEPRECATED_KINDS`) warns and is translated; anything else not in
    ``choices`` raises a :class:`~qexpr.QexprValueError` that lists them.
    """
    if isinstance(name, str) and name in DEPRECATED_KINDS and name not in choices:
        new = DEPRECATED_KINDS[name]
        warnings.warn(
            f"kind {name!r} is now called {new!r}; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=3,
        )
        name = new
    if not isinstance(name, str) or name not in choices:
        raise QexprValueError(f"kind: expected one of {', '.join(choices)}, got {name!r}")
    return name
