"""Exact numbers as the network format writes them.

A number is a JSON integer, a JSON float (taken as the exact binary value it denotes),
or a string holding an integer, a fraction ``p/q`` or a decimal (``"-0.125"``, ``"1e-3"``),
all taken exactly as :class:`fractions.Fraction`. NaN and infinities are refused, and so
are numbers with more than :data:`MAX_DIGITS` digits or a decimal exponent beyond
:data:`MAX_EXPONENT` (checked on the text, before any conversion, so a hostile
``"1e999999999"`` is refused at once).

For output, :func:`number_to_json` gives a float when float64 holds the value's magnitude
and an exact string otherwise (``10**400`` is not ``inf``, ``10**-400`` is not ``0``).
"""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Sequence
from fractions import Fraction

from qexpr._errors import QexprTypeError, QexprValueError

__all__ = [
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "SAFE_INT_BITS",
    "check_seed",
    "fits_float64",
    "format_integer",
    "format_number",
    "number_to_json",
    "parse_number",
    "parse_vector",
    "scientific",
]

#: Most digits an integer, numerator or denominator may have (a float64 needs at most 767).
MAX_DIGITS = 1000
#: Largest ``|e|`` of a decimal exponent ``1e<e>``.
MAX_EXPONENT = 1000
_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))

_FRACTION = re.compile(r"([+-]?\d+)/(\d+)")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)(?:[eE]([+-]?\d+))?")

#: Magnitudes float64 holds at full precision: the normal range.
_FLOAT_MIN = Fraction(sys.float_info.min)
_FLOAT_MAX = Fraction(sys.float_info.max)


def _check_size(value: Fraction, where: str) -> Fraction:
    """Refuse a number whose numerator or denominator has more than MAX_DIGITS digits."""
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > _MAX_BITS:
        raise QexprValueError(f"{where}: number has more than {MAX_DIGITS} digits")
    return value


def _parse_text(text: str, where: str) -> Fraction | None:
    """The exact value of a numeral, bounded in size before conversion; None if no numeral."""
    decimal = _DECIMAL.fullmatch(text)
    fraction = None if decimal else _FRACTION.fullmatch(text)
    if decimal is None and fraction is None:
        return None
    parts = (decimal.group(1),) if decimal is not None else fraction.groups()
    digits = max(sum(ch.isdigit() for ch in part) for part in parts)
    if digits > MAX_DIGITS:
        raise QexprValueError(f"{where}: number has more than {MAX_DIGITS} digits")
    if decimal is not None:
        exponent = decimal.group(2) or "0"
        if len(exponent.lstrip("+-0")) > 6 or abs(int(exponent)) > MAX_EXPONENT:
            raise QexprValueError(
                f"{where}: decimal exponent beyond ±{MAX_EXPONENT} in {_clip(text)}"
            )
        return Fraction(text)
    if int(fraction.group(2)) == 0:
        return None
    return Fraction(int(fraction.group(1)), int(fraction.group(2)))


def _clip(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


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
        For a non-finite float, a string that is not an integer, ``p/q`` or a decimal, more
        than :data:`MAX_DIGITS` digits or an exponent beyond :data:`MAX_EXPONENT`.
    QexprTypeError
        For any other type (``bool``, ``None``, lists, ...).
    """
    if isinstance(value, bool):
        raise QexprTypeError(f"{where}: expected a number, got the boolean {value!r}")
    if isinstance(value, int | Fraction):
        return _check_size(Fraction(value), where)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QexprValueError(f"{where}: expected a finite number, got {value!r}")
        return Fraction(value)
    if isinstance(value, str):
        number = _parse_text(value.strip(), where)
        if number is None:
            raise QexprValueError(
                f"{where}: expected an integer, a fraction p/q or a decimal, got {_clip(value)}"
            )
        return number
    raise QexprTypeError(f"{where}: expected a number, got {type(value).__name__} {value!r}")


#: Digits Python converts to text in one step (its ``sys.int_info`` default limit is 4300).
_CHUNK_DIGITS = 4000
#: Integers of at most this many bits (3612 digits) convert with one ``str`` call.
SAFE_INT_BITS = 12_000
#: Integers up to this many digits are written exactly by :func:`format_integer`.
EXACT_TEXT_DIGITS = 100_000


def format_integer(value: int) -> str:
    """Decimal text of any integer, past Python's 4300-digit ``str`` limit.

    Exact up to :data:`EXACT_TEXT_DIGITS` digits (converted in chunks of 4000 digits);
    beyond, ``"~1.23456789012e123456"``: 12 significant digits, flagged by the ``~``.
    """
    if abs(value).bit_length() <= SAFE_INT_BITS:
        return str(value)
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value.bit_length() * math.log10(2) > EXACT_TEXT_DIGITS:
        shift = value.bit_length() - 64
        logarithm = math.log10(value >> shift) + shift * math.log10(2)
        exponent = math.floor(logarithm)
        return f"~{sign}{10 ** (logarithm - exponent):.11f}e{exponent}"
    chunks, base = [], 10**_CHUNK_DIGITS
    while value:
        value, chunk = divmod(value, base)
        chunks.append(chunk)
    head, *rest = reversed(chunks)
    return sign + str(head) + "".join(str(chunk).zfill(_CHUNK_DIGITS) for chunk in rest)


def format_number(value: Fraction) -> str:
    """Write an exact number as the string ``"p"`` or ``"p/q"`` (lowest terms)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` if it is an integer >= 0 (``int`` or numpy integer), else a QexprError.

    A bool, float or string is a :class:`~qexpr.QexprTypeError` (never converted); a negative
    integer a :class:`~qexpr.QexprValueError`.
    """
    if isinstance(seed, bool) or not hasattr(type(seed), "__index__"):
        raise QexprTypeError(f"{name}: expected an integer >= 0, got {seed!r}")
    if operator.index(seed) < 0:
        raise QexprValueError(f"{name}: expected an integer >= 0, got {seed!r}")
    return operator.index(seed)


def scientific(value: Fraction, digits: int = 17) -> str:
    """``value`` rounded to ``digits`` significant digits, as ``"-1.25e400"`` (exact arithmetic)."""
    if value == 0:
        return "0"
    sign, value = ("-" if value < 0 else ""), abs(value)
    exponent = len(str(value.numerator)) - len(str(value.denominator))
    if value < Fraction(10) ** exponent:
        exponent -= 1
    mantissa = round(value / Fraction(10) ** (exponent - digits + 1))
    if mantissa >= 10**digits:  # rounding carried into a new digit: 9.99... -> 10.0...
        mantissa, exponent = round(Fraction(mantissa, 10)), exponent + 1
    text = str(mantissa).rstrip("0") or "0"
    point = f".{text[1:]}" if len(text) > 1 else ""
    return f"{sign}{text[0]}{point}e{exponent}"


def fits_float64(value: Fraction | float) -> bool:
    """True when float64 does not overflow on ``value`` (``|value| <= 1.8e308``)."""
    return isinstance(value, float) or abs(value) <= _FLOAT_MAX


def number_to_json(value: Fraction) -> float | str:
    """A float when float64 holds ``value``'s magnitude (normal range), else an exact string.

    ``0`` and values with ``2.2e-308 <= |value| <= 1.8e308`` become the nearest float;
    anything else becomes :func:`format_number`'s exact ``"p"`` or ``"p/q"``, never ``inf``
    or ``0.0``.
    """
    if value == 0 or _FLOAT_MIN <= abs(value) <= _FLOAT_MAX:
        return float(value)
    return format_number(value)


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
