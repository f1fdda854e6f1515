"""Exact numbers as the network format writes them.

A number is a JSON integer, a JSON float (taken as the exact binary value it denotes),
or a string holding an integer, a fraction ``p/q`` or a decimal (``"-0.125"``, ``"1e-3"``),
all taken exactly as :class:`fractions.Fraction`. NaN and infinities are refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

from qexpr._errors import QexprTypeError, QexprValueError

__all__ = ["format_number", "parse_number", "parse_vector"]

_INTEGER = re.compile(r"[+-]?\d+")
_FRACTION = re.compile(r"([+-]?\d+)/(\d+)")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def parse_number(value: object, where: str) -> Fraction:
    """Read one number of the network format exactly.

    Parameters
    ----------
    value
        A Python ``int``, ``float``, :class:`~fractions.Fraction` or ``str``.
    where
        Where the number comes from, used as the prefix of the error message.

    Returns
    -------
    Fraction
        The exact value (a float gives its exact binary value).

    Raises
    ------
    QexprValueError
        For a non-finite float or a string that is not an integer, ``p/q`` or a decimal.
    QexprTypeError
        For any other type (``bool``, ``None``, lists, ...).
    """
    if isinstance(value, bool):
        raise QexprTypeError(f"{where}: expected a number, got the boolean {value!r}")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QexprValueError(f"{where}: expected a finite number, got {value!r}")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text) or _DECIMAL.fullmatch(text):
            return Fraction(text)
        match = _FRACTION.fullmatch(text)
        if match and int(match.group(2)) != 0:
            return Fraction(int(match.group(1)), int(match.group(2)))
        raise QexprValueError(
            f"{where}: expected an integer, a fraction p/q or a decimal, got {value!r}"
        )
    raise QexprTypeError(f"{where}: expected a number, got {type(value).__name__} {value!r}")


def format_number(value: Fraction) -> str:
    """Write an exact number as the string ``"p"`` or ``"p/q"`` (lowest terms)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def parse_vector(value: object, name: str, length: int | None = None) -> tuple[Fraction, ...]:
    """Read a vector exactly: a sequence of numbers or a string ``"0.5,-1,1/3"``.

    Raises :class:`QexprValueError` naming ``name`` when ``length`` is given and differs.
    """
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Sequence) and not hasattr(value, "__array__"):
        raise QexprTypeError(f"{name}: expected a sequence of numbers, got {value!r}")
    vector = tuple(parse_number(v, name) for v in value)
    if length is not None and len(vector) != length:
        raise QexprValueError(f"{name}: expected {length} numbers, got {len(vector)}")
    return vector
