"""The qexpr exception hierarchy.

Every error qexpr raises on bad input derives from :class:`QexprError`, and also from
:class:`ValueError` or :class:`TypeError` so that generic handlers keep working. The
message is one line that names what is wrong (file, layer, key) and what was expected;
the command line prints exactly that line and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "NetworkFormatError",
    "QexprError",
    "QexprTypeError",
    "QexprValueError",
]


class QexprError(Exception):
    """Base class of every error qexpr raises on bad input."""


class QexprValueError(QexprError, ValueError):
    """An argument has the right type but an unusable value."""


class QexprTypeError(QexprError, TypeError):
    """An argument has the wrong type."""


class NetworkFormatError(QexprValueError):
    """A network file or dictionary does not follow the ``qexpr-network/1`` format."""
