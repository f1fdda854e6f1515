"""Dimension of the neurovariety of a polynomial network, certified by modular ranks.

The neurovariety :math:`V` is the Zariski closure of the image of the parameter map
:math:`\\theta \\mapsto (f_1, \\dots, f_{d_h})` into the space of output polynomials
(Kileel, Trager and Bruna 2019); :math:`\\dim V` is the generic rank of its Jacobian.

- *Lower bound*: the rank, over :math:`\\mathbb{F}_p`, of the evaluated Jacobian
  :math:`J(\\theta, x_1..x_N)` at random :math:`\\theta` and points. A nonzero
  :math:`k \\times k` minor mod :math:`p` is a nonzero integer polynomial, hence
  :math:`\\dim V \\ge k` (``docs/theory.md``). Two primes are used; the larger rank wins.
- *Upper bound* (``expected``): the smallest of the ambient dimension, :math:`P - s` where
  :math:`s` is the rank mod :math:`p` of the tangent vectors of known symmetries (each lies in
  :math:`\\ker J` everywhere), and the factorisation bound :math:`\\dim\\Phi - s_\\Phi` through the
  neurons' pre-activation polynomials (``qexpr.dimension._factored``).

When the bounds meet, the dimension is ``certified``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from math import ceil, inf

import numpy as np

from qexpr._errors import QexprValueError
from qexpr._progress import Progress
from qexpr.dimension._factored import factored_bound
from qexpr.dimension._jacobian import evaluated_jacobian, symmetry_generators
from qexpr.dimension._rank import modular_rank
from qexpr.dimension._spec import PolyNetSpec, make_spec

__all__ = ["PRIMES", "DimensionResult", "neurovariety_dimension"]

PRIMES = (67108859, 67108837)  # the two largest primes below 2**26
_FULL_ENTRIES = 2**24  # largest Jacobian (entries) evaluated at all M monomials' worth of points


@dataclass(frozen=True)
class DimensionResult:
    """Bounds on the dimension of a neurovariety.

    Attributes
    ----------
    spec : PolyNetSpec
        The architecture.
    seed : int
        Seed of the random parameters and points.
    dimension : int
        Certified lower bound: the largest modular rank of the evaluated Jacobian.
    expected : int
        Certified upper bound :math:`\\min(\\text{ambient}, P - \\text{symmetries},
        \\text{factored})`.
    symmetries : int
        Rank of the known symmetry generators (one rescaling per hidden neuron, and more,
        see ``qexpr.dimension._jacobian.symmetry_generators``).
    factored : int
        Factorisation bound :math:`\\dim\\Phi - s_\\Phi`: the summed dimensions of the neurons'
        sets of pre-activation polynomials minus the rank of the tangents of curves in
        :math:`\\Phi` along which the outputs are constant (``qexpr.dimension._factored``).
    primes, modular_ranks : tuple of int
        The primes used and the rank obtained with each.
    points : int
        Number :math:`N` of sample points (the Jacobian has :math:`d_h N` rows).
    float_rank : int or None
        Numerical rank of the float64 Jacobian (numpy's default tolerance), if computed.
    singular_gap : float or None
        :math:`\\sigma_{\\dim} / \\sigma_{\\dim + 1}` of the float64 Jacobian (``inf`` if
        :math:`\\dim` is its smaller side), if computed.
    """

    spec: PolyNetSpec
    seed: int
    dimension: int
    expected: int
    symmetries: int
    factored: int
    primes: tuple[int, ...]
    modular_ranks: tuple[int, ...]
    points: int
    float_rank: int | None = None
    singular_gap: float | None = None

    def __post_init__(self) -> None:
        if len(self.primes) != len(self.modular_ranks) or not self.primes:
            raise QexprValueError("modular_ranks: expected one rank per prime")
        if self.dimension != max(self.modular_ranks):
            raise QexprValueError("dimension: expected the largest modular rank")
        if self.expected != min(
            self.spec.ambient, self.spec.parameters - self.symmetries, self.factored
        ):
            raise QexprValueError(
                "expected: must be min(ambient, parameters - symmetries, factored)"
            )
        if self.dimension > self.expected:
            raise QexprValueError(
                f"dimension {self.dimension} exceeds the upper bound {self.expected}: "
                "a claimed symmetry is wrong"
            )

    @property
    def parameters(self) -> int:
        """Number of parameters :math:`P`."""
        return self.spec.parameters

    @property
    def ambient(self) -> int:
        """Dimension of the space of possible outputs, :math:`d_h \\cdot \\#\\text{monomials}`."""
        return self.spec.ambient

    @property
    def certified(self) -> bool:
        """Whether the lower and upper bounds meet, so ``dimension`` is exact."""
        return self.dimension == self.expected

    @property
    def defect(self) -> int:
        """``expected - dimension`` (0 when certified)."""
        return self.expected - self.dimension

    @property
    def injective(self) -> bool:
        """Whether :math:`N` equals the number of monomials (evaluation map injective)."""
        return self.points == self.spec.monomials

    @property
    def filling(self) -> bool:
        """Whether ``dimension`` equals ``ambient`` (the network can output almost anything)."""
        return self.dimension == self.ambient

    def to_dict(self) -> dict:
        """JSON-ready summary (``singular_gap`` ``inf`` becomes None)."""
        out = asdict(self)
        spec = out.pop("spec")
        gap = self.singular_gap
        out |= {
            "kind": spec["kind"],
            "widths": list(spec["widths"]),
            "r": list(spec["r"]),
            "bias": spec["bias"],
            "parameters": self.parameters,
            "ambient": self.ambient,
            "certified": self.certified,
            "defect": self.defect,
            "filling": self.filling,
            "injective": self.injective,
            "primes": list(self.primes),
            "modular_ranks": list(self.modular_ranks),
            "singular_gap": None if gap is None or gap == inf else gap,
        }
        return out


def _modular_ranks(spec: PolyNetSpec, seed: int, n_points: int) -> tuple[int, ...]:
    """Rank of the evaluated Jacobian mod each prime, at random parameters and points."""
    ranks = []
    for index, p in enumerate(PRIMES):
        rng = np.random.default_rng([seed, index, n_points])
        theta = rng.integers(1, p, spec.parameters)
        points = rng.integers(1, p, (n_points, spec.widths[0]))
        ranks.append(modular_rank(evaluated_jacobian(spec, theta, points, p), p))
    return tuple(ranks)


def _upper_bounds(spec: PolyNetSpec, seed: int) -> tuple[int, int]:
    """Rank of the symmetry generators and the factorisation bound, mod the first prime at
    random parameters."""
    p = PRIMES[0]
    theta = np.random.default_rng([seed, len(PRIMES)]).integers(1, p, spec.parameters)
    dim_phi, tangents = factored_bound(spec, theta, p)
    return modular_rank(symmetry_generators(spec, theta, p), p), dim_phi - tangents


def float_spectrum(spec: PolyNetSpec, seed: int, n_points: int) -> np.ndarray:
    """Singular values, descending, of the float64 evaluated Jacobian (standard normal draws)."""
    rng = np.random.default_rng([seed, len(PRIMES) + 1, n_points])
    theta = rng.standard_normal(spec.parameters)
    points = rng.standard_normal((n_points, spec.widths[0]))
    return np.linalg.svd(evaluated_jacobian(spec, theta, points, None), compute_uv=False)


def _float_summary(singular: np.ndarray, shape: tuple[int, int], dim: int) -> tuple[int, float]:
    """Numerical rank (numpy's tolerance) and the gap :math:`\\sigma_{dim}/\\sigma_{dim+1}`."""
    if singular.size == 0 or singular[0] == 0:
        return 0, inf
    tol = singular[0] * max(shape) * np.finfo(np.float64).eps
    rank = int(np.count_nonzero(singular > tol))
    if dim == 0 or dim >= singular.size or singular[dim] == 0:
        return rank, inf
    return rank, float(singular[dim - 1] / singular[dim])


def _number_of_points(spec: PolyNetSpec) -> int:
    """:math:`N = M` (injective evaluation) when :math:`d_h M P \\le` ``_FULL_ENTRIES``, else
    :math:`\\lceil \\min(P, \\text{ambient}) / d_h \\rceil + 2`."""
    if spec.ambient * spec.parameters <= _FULL_ENTRIES:
        return spec.monomials
    return min(spec.monomials, ceil(min(spec.parameters, spec.ambient) / spec.widths[-1]) + 2)


def neurovariety_dimension(
    kind: str,
    widths: Sequence[int],
    r: int | Sequence[int] | None = None,
    *,
    bias: bool = False,
    seed: int = 0,
    float_check: bool = True,
    progress: Progress | None = None,
) -> DimensionResult:
    """Certified bounds on the dimension of a polynomial network's neurovariety.

    Parameters
    ----------
    kind : {"square", "quadratic", "compact"}
        The architecture (``"conv"``, the old name of ``"square"``, warns); the output
        layer has conventional neurons and no activation.
    widths : sequence of int
        :math:`(d_0, \\dots, d_h)`.
    r : int, sequence of int or None
        Hidden activation :math:`z^{r_l}`; None means 2 for ``square``, 1 (identity) otherwise.
    bias : bool
        Include biases (affine network); default homogeneous, as in Kileel, Trager and Bruna.
    seed : int
        Seed of the random parameters and points; the result is deterministic given it.
    float_check : bool
        Also compute the float64 SVD estimate (cubic cost; turn off for big networks).
    progress : callable or None
        Called as ``progress("dimension", done, total)`` after each step: the upper bounds,
        the ranks modulo the primes, the float64 spectrum (if asked).

    Returns
    -------
    DimensionResult
        ``dimension`` :math:`\\le \\dim V \\le` ``expected``; ``certified`` when equal.

    Notes
    -----
    The Jacobian has :math:`d_h N` rows. :math:`N = M`, the number of monomials (evaluation at
    generic points is injective), unless the Jacobian would exceed :math:`2^{24}` entries; then
    :math:`N = \\lceil t / d_h \\rceil + 2` with :math:`t = \\min(P, \\text{ambient})`, which can
    undercount for structured outputs (``injective`` is False; still a lower bound).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise QexprValueError(f"seed: expected a non-negative int, got {seed!r}")
    spec = make_spec(kind, widths, r, bias=bias)
    steps = 3 if float_check else 2

    def step(done: int) -> None:
        if progress is not None:
            progress("dimension", done, steps)

    symmetries, factored = _upper_bounds(spec, seed)
    step(1)
    upper = min(spec.ambient, spec.parameters - symmetries, factored)
    n_points = _number_of_points(spec)
    ranks = _modular_ranks(spec, seed, n_points)
    step(2)
    dimension = max(ranks)
    float_rank = gap = None
    if float_check:
        singular = float_spectrum(spec, seed, n_points)
        step(3)
        float_rank, gap = _float_summary(
            singular, (spec.widths[-1] * n_points, spec.parameters), dimension
        )
    return DimensionResult(
        spec=spec,
        seed=seed,
        dimension=dimension,
        expected=upper,
        symmetries=symmetries,
        factored=factored,
        primes=PRIMES,
        modular_ranks=ranks,
        points=n_points,
        float_rank=float_rank,
        singular_gap=gap,
    )
