"""Theorem 2 tables: quadratic networks versus :math:`z^2` networks of the same widths.

Every :math:`z^2` network is a quadratic network with identity activation
(:math:`w_g = w_r`, :math:`w_b = 0`, and :math:`b_g = b_r`, :math:`c = 0` with biases), so
:math:`V_{\\text{square}, d, 2} \\subseteq V_{\\text{quadratic}, d}` and the dimensions compare.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from qexpr._errors import QexprValueError
from qexpr.dimension._dimension import DimensionResult, neurovariety_dimension

__all__ = [
    "Theorem2Row",
    "theorem2_architectures",
    "theorem2_markdown",
    "theorem2_rows",
    "theorem2_summary",
]


@dataclass(frozen=True)
class Theorem2Row:
    """The quadratic and :math:`z^2` results for one width vector."""

    quadratic: DimensionResult
    square: DimensionResult

    def __post_init__(self) -> None:
        if self.quadratic.spec.widths != self.square.spec.widths:
            raise QexprValueError("Theorem2Row: quadratic and square widths differ")

    @property
    def conv(self) -> DimensionResult:
        """The 0.1 name of ``square`` (deprecated)."""
        warnings.warn(
            "Theorem2Row.conv is now Theorem2Row.square; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.square

    @property
    def relation(self) -> str:
        """``"strict"`` if the measured quadratic dimension is larger, else ``"equal"``.

        ``dim V_quad >= dim V_z2`` is proved; ``"strict"`` is certified when
        :attr:`certified_strict`, otherwise it holds with high probability only.
        """
        return "strict" if self.quadratic.dimension > self.square.dimension else "equal"

    @property
    def certified_strict(self) -> bool:
        """Quadratic lower bound above the :math:`z^2` upper bound: strictness is proved."""
        return self.quadratic.dimension > self.square.expected


def theorem2_architectures(
    max_input: int = 4, max_depth: int = 4, max_width: int = 4
) -> Iterator[tuple[int, ...]]:
    """All widths :math:`(d_0, \\dots, d_h)`, :math:`2 \\le d_0 \\le` ``max_input``,
    :math:`2 \\le h \\le` ``max_depth``, :math:`1 \\le d_l \\le` ``max_width``."""
    for depth in range(2, max_depth + 1):
        for d0 in range(2, max_input + 1):
            for rest in itertools.product(range(1, max_width + 1), repeat=depth):
                yield (d0, *rest)


def theorem2_rows(widths_list, *, bias: bool = False, seed: int = 0) -> Iterator[Theorem2Row]:
    """Quadratic (identity activation) and :math:`z^2` dimensions for each width vector."""
    for widths in widths_list:
        yield Theorem2Row(
            quadratic=neurovariety_dimension(
                "quadratic", widths, 1, bias=bias, seed=seed, float_check=False
            ),
            square=neurovariety_dimension(
                "square", widths, 2, bias=bias, seed=seed, float_check=False
            ),
        )


def _mark(result: DimensionResult) -> str:
    """``dimension``, then ``*`` if certified and ``F`` if filling."""
    return f"{result.dimension}{'*' if result.certified else ''}{'F' if result.filling else ''}"


def theorem2_markdown(rows: list[Theorem2Row]) -> str:
    """Markdown table: one line per architecture, then counts by relation and filling."""
    head = (
        "| widths | params quad | params z² | ambient | expected quad | dim quad "
        "| expected z² | dim z² | relation |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for row in rows:
        q, c = row.quadratic, row.square
        lines.append(
            f"| {','.join(map(str, q.spec.widths))} | {q.parameters} | {c.parameters} "
            f"| {q.ambient} | {q.expected} | {_mark(q)} | {c.expected} | {_mark(c)} "
            f"| {row.relation}{' (certified)' if row.certified_strict else ''} |"
        )
    return "\n".join(lines) + "\n"


def theorem2_summary(rows: list[Theorem2Row]) -> dict[str, int]:
    """Counts: architectures, strict, equal, equal with both filling, certified of each kind."""
    return {
        "architectures": len(rows),
        "strict": sum(row.relation == "strict" for row in rows),
        "strict, certified": sum(row.certified_strict for row in rows),
        "equal": sum(row.relation == "equal" for row in rows),
        "equal, both filling": sum(row.relation == "equal" and row.square.filling for row in rows),
        "equal, not filling": sum(
            row.relation == "equal" and not row.square.filling for row in rows
        ),
        "quadratic filling": sum(row.quadratic.filling for row in rows),
        "z² filling": sum(row.square.filling for row in rows),
        "quadratic certified": sum(row.quadratic.certified for row in rows),
        "z² certified": sum(row.square.certified for row in rows),
    }
