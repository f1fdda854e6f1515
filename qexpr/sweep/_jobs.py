"""Job types of a sweep: what a job's parameters are, how they are checked, how it runs.

A *job type* is a name, the ordered names of its parameters (with defaults), the ordered
names of its results, a ``check`` that validates and normalises one job's parameters in the
calling process (so bad input fails before anything runs), and a ``run`` that computes
the results in a worker. Two are built in:

``count``
    ``qexpr.count_pieces(qexpr.random_network(kind, widths, seed=seed), mode=mode)``; results
    ``pieces, activation_regions, degree, engine, unresolved, bound_pieces``.
``dimension``
    ``qexpr.neurovariety_dimension(kind, widths, r=r, bias=bias, seed=seed)`` (imported
    when a job is checked or run); results ``dimension, expected, certified``.

More can be added with :func:`register_job_type`. A job is identified by its *key*, the
first 16 hex digits of the SHA-256 of its type and parameter cells (see :func:`job_key`),
so the same parameters give the same key in every run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from qexpr._errors import QexprTypeError, QexprValueError

__all__ = [
    "JobType",
    "cell",
    "choice",
    "get_job_type",
    "job_grid",
    "job_key",
    "natural",
    "register_job_type",
    "row_problem",
]

_REQUIRED = object()


@dataclass(frozen=True)
class JobType:
    """One kind of sweep job.

    Attributes
    ----------
    name
        The name used by ``qexpr sweep NAME`` and :func:`qexpr.sweep.run_sweep`.
    params
        Parameter names, in CSV column order.
    results
        Result names, in CSV column order; ``run`` returns a mapping with exactly these keys.
    run
        ``run(**params) -> Mapping[str, Any]``, a picklable module-level function.
    check
        ``check(params) -> params``: validates one job's complete parameters (defaults filled
        in) and returns them normalised; raises a :class:`qexpr.QexprError`.
    defaults
        Default values of optional parameters.
    cells
        For some result names, ``cells[name](text) -> bool``: whether a CSV cell is a valid
        value. A resumed sweep re-runs a ``done`` row that fails one (see ``row_problem``).
    """

    name: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    run: Callable[..., Mapping[str, Any]]
    check: Callable[[dict[str, Any]], dict[str, Any]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    cells: Mapping[str, Callable[[str], bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise QexprValueError(f"name: expected an identifier, got {self.name!r}")
        names = (*self.params, *self.results)
        if len(set(names)) != len(names) or set(names) & {"key", "job", *STATUS_COLUMNS}:
            raise QexprValueError(
                f"{self.name}: parameter and result names must be distinct and not "
                f"key, job, {', '.join(STATUS_COLUMNS)}"
            )
        if not set(self.defaults) <= set(self.params):
            raise QexprValueError(f"{self.name}: defaults name unknown parameters")
        if not set(self.cells) <= set(self.results):
            raise QexprValueError(f"{self.name}: cells name unknown results")
        if not callable(self.run) or not callable(self.check):
            raise QexprTypeError(f"{self.name}: run and check must be callable")
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "cells", MappingProxyType(dict(self.cells)))

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV header: ``key, job``, parameters, results, ``status, seconds, error``."""
        return ("key", "job", *self.params, *self.results, *STATUS_COLUMNS)

    def prepare(self, params: Mapping[str, Any], where: str = "job") -> dict[str, Any]:
        """Fill in defaults, reject unknown or missing parameters, run ``check``."""
        if not isinstance(params, Mapping):
            raise QexprTypeError(f"{where}: expected a dict of parameters, got {params!r}")
        unknown = [name for name in params if name not in self.params]
        if unknown:
            raise QexprValueError(
                f"{where}: {unknown[0]!r} is not a parameter of {self.name} jobs "
                f"(parameters: {', '.join(self.params)})"
            )
        full = {name: params.get(name, self.defaults.get(name, _REQUIRED)) for name in self.params}
        missing = [name for name, value in full.items() if value is _REQUIRED]
        if missing:
            raise QexprValueError(f"{where}: missing parameter {missing[0]!r}")
        try:
            return self.check(full)
        except (QexprValueError, QexprTypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None


STATUS_COLUMNS = ("status", "seconds", "error")

_REGISTRY: dict[str, JobType] = {}


def register_job_type(job_type: JobType, replace: bool = False) -> JobType:
    """Make ``job_type`` available by name to :func:`qexpr.sweep.run_sweep` in this process."""
    if not isinstance(job_type, JobType):
        raise QexprTypeError(f"job_type: expected a JobType, got {type(job_type).__name__}")
    if job_type.name in _REGISTRY and not replace:
        raise QexprValueError(f"job_type: {job_type.name!r} is already registered")
    _REGISTRY[job_type.name] = job_type
    return job_type


def get_job_type(name: str | JobType) -> JobType:
    """The registered job type called ``name`` (a :class:`JobType` passes through)."""
    if isinstance(name, JobType):
        return name
    if name not in _REGISTRY:
        raise QexprValueError(f"job: expected one of {', '.join(_REGISTRY)}, got {name!r}")
    return _REGISTRY[name]


def cell(value: Any) -> str:
    """A parameter or result as CSV text: sequences comma-joined, everything else ``str``."""
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return str(value)


def job_key(job_type: JobType, params: Mapping[str, Any]) -> str:
    """Stable identity of a job: SHA-256 of ``[name, [param, cell], ...]``, 16 hex digits."""
    text = json.dumps([job_type.name, *([name, cell(params[name])] for name in job_type.params)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def row_problem(job_type: JobType, row: Sequence[str]) -> str | None:
    """What is wrong with a recorded CSV row of ``job_type``, or None.

    The key must be :func:`job_key` of the row's parameter cells (so no parameter was
    edited), and a ``done`` row must hold a valid cell for every result ``job_type.cells``
    checks.
    """
    params = dict(zip(job_type.params, row[2 : 2 + len(job_type.params)]))
    if row[0] != job_key(job_type, params) or row[1] != job_type.name:
        return "key does not match its parameters"
    if row[len(job_type.columns) - len(STATUS_COLUMNS)] != "done":
        return None
    first = 2 + len(job_type.params)
    for name, text in zip(job_type.results, row[first:]):
        check = job_type.cells.get(name)
        if check is not None and not check(text):
            return f"{name} = {text[:20]!r}"
    return None


def natural(low: int) -> Callable[[str], bool]:
    """A cell check: a decimal integer >= ``low`` (ASCII digits, at most 30)."""

    def check(text: str) -> bool:
        return (
            len(text) <= 30
            and re.fullmatch(r"\d+", text, re.ASCII) is not None
            and int(text) >= low
        )

    return check


def choice(*values: str) -> Callable[[str], bool]:
    """A cell check: one of ``values``."""
    return frozenset(values).__contains__


def job_grid(**axes: Iterable[Any]) -> list[dict[str, Any]]:
    """All combinations of the given axes, last axis fastest.

    ``job_grid(kind=["relu"], seed=range(2))`` is
    ``[{"kind": "relu", "seed": 0}, {"kind": "relu", "seed": 1}]``.
    """
    names = list(axes)
    values = [list(axis) for axis in axes.values()]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise QexprValueError(f"{name}: expected an int >= {low}, got {value!r}")
    return value


def _check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise QexprValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _check_count(params: dict[str, Any]) -> dict[str, Any]:
    from qexpr._kinds import KINDS
    from qexpr._random import check_widths

    widths = check_widths(params["widths"])
    if widths[0] != 1:
        raise QexprValueError(f"widths: count jobs need one input (n0 = 1), got {cell(widths)}")
    return {
        "kind": _check_choice(params["kind"], "kind", list(KINDS)),
        "widths": widths,
        "seed": _check_int(params["seed"], "seed", 0),
        "mode": _check_choice(params["mode"], "mode", ("exact", "float", "auto")),
    }


def run_count(kind: str, widths: tuple[int, ...], seed: int, mode: str) -> dict[str, Any]:
    """Pieces of ``random_network(kind, widths, seed=seed)`` and the spline-recursion bound."""
    from qexpr._bounds import spline_bound
    from qexpr._random import random_network
    from qexpr.spline._count import count_pieces

    net = random_network(kind, widths, seed=seed)
    result = count_pieces(net, mode=mode)
    return {
        "pieces": result.pieces,
        "activation_regions": result.activation_regions,
        "degree": result.degree,
        "engine": result.mode,
        "unresolved": result.unresolved,
        "bound_pieces": spline_bound(net).pieces,
    }


def _check_dimension(params: dict[str, Any]) -> dict[str, Any]:
    from qexpr._random import check_widths
    from qexpr.dimension._spec import KINDS, make_spec

    if not isinstance(params["bias"], bool):
        raise QexprTypeError(f"bias: expected True or False, got {params['bias']!r}")
    kind = _check_choice(params["kind"], "kind", KINDS)
    widths = check_widths(params["widths"])
    if params["r"] is None:  # the kind's default: z^2 for conv, identity for quadratic
        exponents = make_spec(kind, widths).r
        params = {**params, "r": exponents[0] if exponents else 1}
    return {
        "kind": kind,
        "widths": widths,
        "seed": _check_int(params["seed"], "seed", 0),
        "r": _check_int(params["r"], "r", 1),
        "bias": params["bias"],
    }


def run_dimension(
    kind: str, widths: tuple[int, ...], seed: int, r: int, bias: bool
) -> dict[str, Any]:
    """Certified bounds ``dimension <= dim V <= expected`` of the neurovariety."""
    from qexpr.dimension import neurovariety_dimension

    result = neurovariety_dimension(kind, widths, r=r, bias=bias, seed=seed)
    return {
        "dimension": result.dimension,
        "expected": result.expected,
        "certified": result.dimension == result.expected,
    }


COUNT = register_job_type(
    JobType(
        name="count",
        params=("kind", "widths", "seed", "mode"),
        results=("pieces", "activation_regions", "degree", "engine", "unresolved", "bound_pieces"),
        run=run_count,
        check=_check_count,
        defaults={"seed": 0, "mode": "auto"},
        cells={
            "pieces": natural(1),
            "activation_regions": natural(1),
            "degree": natural(0),
            "engine": choice("exact", "float"),
            "unresolved": natural(0),
            "bound_pieces": natural(1),
        },
    )
)

DIMENSION = register_job_type(
    JobType(
        name="dimension",
        params=("kind", "widths", "seed", "r", "bias"),
        results=("dimension", "expected", "certified"),
        run=run_dimension,
        check=_check_dimension,
        defaults={"seed": 0, "r": None, "bias": False},
        cells={
            "dimension": natural(0),
            "expected": natural(0),
            "certified": choice("True", "False"),
        },
    )
)
