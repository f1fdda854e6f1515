"""Theorem 2: the dimension of the neurovariety of a polynomial network.

* ``_spec`` — ``PolyNetSpec``, the architecture as a polynomial map;
* ``_jacobian`` — the Jacobian of the parameter map, evaluated mod a prime, and the
  symmetry generators (an upper bound);
* ``_rank`` — ranks over prime fields (the certified lower bound);
* ``_factored`` — the factorisation upper bound;
* ``_dimension`` — ``neurovariety_dimension``, which combines them;
* ``_table`` — the Theorem 2 tables (quadratic against z² networks);
* ``_sympy_oracle`` — an independent symbolic computation, for tests only (slow).
"""

from qexpr.dimension._dimension import DimensionResult, neurovariety_dimension
from qexpr.dimension._spec import PolyNetSpec, make_spec
from qexpr.dimension._table import (
    Theorem2Row,
    theorem2_architectures,
    theorem2_markdown,
    theorem2_rows,
    theorem2_summary,
)

__all__ = [
    "DimensionResult",
    "PolyNetSpec",
    "Theorem2Row",
    "make_spec",
    "neurovariety_dimension",
    "theorem2_architectures",
    "theorem2_markdown",
    "theorem2_rows",
    "theorem2_summary",
]
