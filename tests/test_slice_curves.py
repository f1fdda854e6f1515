"""Exact region maps (cylindrical decomposition) against hand counts, polygons and grids."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qexpr
from qexpr.slice import exact_regions
from qexpr.slice._grid import grid_slice
from qexpr.slice._polygons import exact_slice

HALF = Fraction(1, 2)


def neurons(*rows: tuple) -> qexpr.Network:
    """One ReLU layer of quadratic neurons ``(wr, br, wg, bg, wb, c)`` on two inputs, summed."""
    keys = ("wr", "br", "wg", "bg", "wb", "c")
    weights = {key: np.array([row[i] for row in rows], dtype=object) for i, key in enumerate(keys)}
    weights = {key: np.vectorize(Fraction, otypes=[object])(v) for key, v in weights.items()}
    layer = qexpr.QuadraticLayer(activation="relu", **weights)
    return qexpr.Network(2, (layer, qexpr.LinearLayer(w=[[1] * len(rows)], b=[0])))


def disk(cx: Fraction, cy: Fraction, r: Fraction) -> tuple:
    """Active inside the circle: ``r² - (x - cx)² - (y - cy)²``."""
    return ([2 * cx, 2 * cy], 0, [0, 0], 1, [-1, -1], r * r - cx * cx - cy * cy)


def form(a: list, b: list, c: object = 0) -> tuple:
    """``(a·x)(b·x) + c`` (a product neuron)."""
    return (a, 0, b, 0, [0, 0], c)


def line(a: object, b: object, c: object = 0) -> tuple:
    """A quadratic neuron computing the affine ``a x + b y + c``."""
    return ([a, b], c, [0, 0], 1, [0, 0], 0)


BOX2 = [-2, 2, -2, 2]
# Hand-derived counts (regions of constant pattern, touching at points kept apart).
CASES = {
    "disk": ([disk(0, 0, HALF)], BOX2, 2),
    "disk of radius 1e-3": ([disk(0, 0, Fraction(1, 1000))], BOX2, 2),
    "off-centre disk of radius 1e-3": ([disk(Fraction(1, 3), HALF, Fraction(1, 1000))], BOX2, 2),
    # Two circles touching at one point: inside one, inside the other, outside both.
    "tangent circles": ([disk(-HALF, 0, HALF), disk(HALF, 0, HALF)], BOX2, 3),
    # Two unit circles overlapping by 2e-6: lens, two crescents, outside.
    "lens of width 2e-6": (
        [disk(-1 + Fraction(1, 10**6), 0, 1), disk(1 - Fraction(1, 10**6), 0, 1)],
        [-3, 3, -2, 2],
        4,
    ),
    "two circles crossing": ([disk(-HALF, 0, 1), disk(HALF, 0, 1)], BOX2, 4),
    "annulus": ([disk(0, 0, HALF), disk(0, 0, 1)], BOX2, 3),
    # x² + y² > 0 except at the origin: an isolated point splits nothing.
    "isolated point": ([([0, 0], 0, [0, 0], 1, [1, 1], 0)], BOX2, 1),
    "isolated point, inactive": ([([0, 0], 0, [0, 0], 1, [-1, -1], 0)], BOX2, 1),
    # xy: two lines crossing; opposite quadrants share a pattern but touch at a point only.
    "node of two lines": ([form([1, 0], [0, 1])], BOX2, 4),
    # x² - 2y²: two lines of irrational slope through a node, irreducible over Q.
    "irrational node": (
        [([0, 0], 0, [0, 0], 1, [1, -2], 0)],
        BOX2,
        4,
    ),
    # xy > 1/10: the two branches of a hyperbola, same pattern.
    "hyperbola": ([form([1, 0], [0, 1], Fraction(-1, 10))], BOX2, 3),
    # x² > 1/4: two half-planes with the same pattern, and the strip between.
    "two half-planes": ([form([1, 0], [1, 0], Fraction(-1, 4))], BOX2, 3),
    # x² touches zero on x = 0 without changing sign: no cut (as a tangent root in 1-D).
    "double line": ([form([1, 0], [1, 0])], BOX2, 1),
    # x, y and x + y: three lines through one point, six sectors with six patterns.
    "three concurrent lines": ([line(1, 0), line(0, 1), line(1, 1)], BOX2, 6),
    # The line y = 1/2 touching the disk of radius 1/2: disk, above the line, the rest.
    "circle and tangent line": ([disk(0, 0, HALF), line(0, 1, -HALF)], BOX2, 3),
    # The unit circle inscribed in [-1, 1]²: touches all four edges, cutting off four corners.
    "circle tangent to the box from inside": ([disk(0, 0, 1)], [-1, 1, -1, 1], 5),
    "circle tangent to the box from outside": ([disk(0, 2, 1)], [-1, 1, -1, 1], 1),
    # z = x on [0, 1]²: the boundary line is the box edge.
    "box edge on a boundary line": ([line(1, 0)], [0, 1, 0, 1], 1),
}


@pytest.mark.parametrize("name", CASES)
def test_hand_counts(name):
    rows, box, expected = CASES[name]
    result = exact_regions(neurons(*rows), box=box)
    assert result.regions == expected
    assert result.method == "exact" and result.certified


def test_isolated_point_is_not_a_region_but_a_pattern_there_differs():
    net = neurons(([0, 0], 0, [0, 0], 1, [1, 1], 0))
    (pattern,) = exact_regions(net, box=BOX2).patterns
    assert pattern == (True,)
    assert net.evaluate_exact([[0, 0]])[0, 0] == 0  # inactive at the point itself


def exact_pattern(net: qexpr.Network, point: tuple) -> tuple[bool, ...]:
    """States of all ReLU neurons at a rational point, from the network's own layers."""
    h = np.array([Fraction(v) for v in point], dtype=object)
    states = []
    for layer in net.to_exact().layers:
        z = layer.pre_activation(h)
        if layer.activation == "relu":
            states += [bool(v > 0) for v in z]
            z = np.array([v if v > 0 else Fraction(0) for v in z], dtype=object)
        elif layer.activation == "square":
            z = z * z
        h = z
    return tuple(states)


@settings(max_examples=20)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=2), st.integers(0, 2**16))
def test_relu_equals_polygons(hidden, seed):
    net = qexpr.random_network("relu", [2, *hidden, 1], seed=seed)
    curves, polygons = exact_regions(net), exact_slice(net)
    assert curves.regions == polygons.regions
    assert set(curves.patterns) == {pattern for _, pattern in polygons.cells}


@settings(max_examples=10)
@given(st.sampled_from(["quadratic", "compact"]), st.integers(1, 3), st.integers(0, 2**16))
def test_quadratic_against_grid_and_own_samples(kind, width, seed):
    net = qexpr.random_network(kind, [2, width, 1], seed=seed)
    result = exact_regions(net)
    for point, pattern in zip(result.samples, result.patterns):
        assert -1 < point[0] < 1 and -1 < point[1] < 1
        assert exact_pattern(net, point) == pattern
    grid = grid_slice(net, resolution=200)
    seen = {tuple(bool(v) for v in p) for p in grid.patterns}
    assert seen <= set(result.patterns)
    assert len(set(result.patterns)) >= len(seen)


@pytest.mark.parametrize("kind", ["quadratic", "compact", "relu"])
def test_count_does_not_depend_on_the_shear(kind):
    net = qexpr.random_network(kind, [2, 3, 1], seed=11)
    first, second = exact_regions(net, seed=0), exact_regions(net, seed=5)
    assert first.shears != second.shears
    assert first.regions == second.regions
    assert sorted(first.patterns) == sorted(second.patterns)


def test_grid_misses_what_exact_finds():
    tiny = neurons(disk(Fraction(1, 3), HALF, Fraction(1, 1000)))
    assert grid_slice(tiny, box=BOX2, resolution=256).regions == 1
    assert exact_regions(tiny, box=BOX2).regions == 2


def test_plane_through_three_points_equals_two_input_network():
    net = qexpr.random_network("quadratic", [3, 2, 1], seed=3)
    plane = [[0, 0, HALF], [1, 0, HALF], [0, 1, HALF]]
    direct = exact_regions(qexpr.slice.plane_network(net, plane))
    through = exact_regions(net, plane)
    assert through.regions == direct.regions and through.samples == direct.samples


def test_quadratic_after_relu_lines_is_in_scope():
    linear = qexpr.random_network("relu", [2, 2, 1], seed=1).layers[0]
    quad = qexpr.random_network("quadratic", [2, 2, 1], seed=1)
    net = qexpr.Network(2, (linear, *quad.layers))
    result = exact_regions(net)
    for point, pattern in zip(result.samples, result.patterns):
        assert exact_pattern(net, point) == pattern


def annuli() -> qexpr.Network:
    """Three quadratic ReLU layers on ``s = x² + y²``: ``h1 = s``, ``h2 = relu(z2)`` with
    ``z2 = (h1 - 1/4)(h1 - 1)``, ``z3 = h2² - 1/50``: a boundary curve of degree 8,
    ``z2² = 1/50``, irreducible over Q (1/50 is not a square)."""

    def layer(wr, br, wg, bg, wb, c) -> qexpr.QuadraticLayer:
        def exact(values: list) -> np.ndarray:
            return np.vectorize(Fraction, otypes=[object])(np.array(values, dtype=object))

        rows = {"wr": wr, "br": br, "wg": wg, "bg": bg, "wb": wb, "c": c}
        return qexpr.QuadraticLayer(activation="relu", **{k: exact(v) for k, v in rows.items()})

    quarter, fiftieth = Fraction(1, 4), Fraction(-1, 50)
    return qexpr.Network(
        2,
        (
            layer([[0, 0]], [0], [[0, 0]], [0], [[1, 1]], [0]),
            layer([[1]], [-quarter], [[1]], [-1], [[0]], [0]),
            layer([[1]], [0], [[1]], [0], [[0]], [fiftieth]),
            qexpr.LinearLayer(w=[[1]], b=[0]),
        ),
    )


def test_three_quadratic_layers_by_hand():
    # With s = x² + y²: z1 = s > 0 off the origin (an isolated point, splitting nothing);
    # z2 = (s - 1/4)(s - 1) > 0 off the annulus 1/4 < s < 1, and there z3 = -1/50 < 0; elsewhere
    # z3 > 0 iff z2 > 1/√50, i.e. s < 0.0939… or s > 1.156… (the roots of
    # s² - 5s/4 + 1/4 - 1/√50; z2 = -1/√50 has no real s). In [-2, 2]² (s up to 8): a disk
    # (1,1,1), the annuli (1,1,0), (1,0,0), (1,1,0), and the outside (1,1,1): 5 regions.
    result = exact_regions(annuli(), box=BOX2)
    assert max(c.total_degree() for c in result.curves) == 8
    t, f = True, False
    assert sorted(result.patterns) == sorted(
        [(t, t, t), (t, t, f), (t, f, f), (t, t, f), (t, t, t)]
    )
    for (x, y), pattern in zip(result.samples, result.patterns):
        s = x * x + y * y
        z2 = (s - Fraction(1, 4)) * (s - 1)
        assert pattern == (s > 0, z2 > 0, z2 > 0 and z2 * z2 > Fraction(1, 50))


def test_estimated_work_by_hand():
    from qexpr.slice._curves import estimated_work

    # The box alone: no discriminants, 6 pairs of lines meeting once, 4 branches per line.
    assert estimated_work([1, 1, 1, 1]) == 6 * 4
    # A conic in the box: discriminant degree 2, 4 conic-edge pairs (2 points each) and 6
    # edge pairs: 16 critical values, 6 branches.
    assert estimated_work([2, 1, 1, 1, 1]) == 16 * 6


def test_work_beyond_the_limit_is_refused_with_the_estimate_and_a_pointer_to_the_grid():
    net = qexpr.random_network("quadratic", [2, 2, 2, 1], seed=0)
    with pytest.raises(qexpr.QexprValueError, match=r"layers\[1\].*estimated work.*grid"):
        exact_regions(net, max_work=1000)


@settings(max_examples=6)
@given(st.integers(0, 2**16))
def test_three_quadratic_layers_against_grid_and_own_samples(seed):
    net = qexpr.random_network("quadratic", [2, 1, 1, 1, 1], seed=seed)
    result = exact_regions(net)
    for point, pattern in zip(result.samples, result.patterns):
        assert exact_pattern(net, point) == pattern
    grid = grid_slice(net, resolution=200)
    seen = {tuple(bool(v) for v in p) for p in grid.patterns}
    assert seen <= set(result.patterns)
    assert result.regions >= len(seen)


def lemniscate() -> qexpr.Network:
    """``(x² + y²)² - 2 (x² - y²)`` from two layers: ``h = (x² + y², x² - y² + 4)`` (both
    positive off the origin in ``[-2, 2]²``), then the compact neuron ``h1² - 2 h2 + 8``."""

    def exact(values: list) -> np.ndarray:
        return np.vectorize(Fraction, otypes=[object])(np.array(values, dtype=object))

    first = qexpr.QuadraticLayer(
        wr=exact([[0, 0], [0, 0]]),
        br=exact([0, 0]),
        wg=exact([[0, 0], [0, 0]]),
        bg=exact([1, 1]),
        wb=exact([[1, 1], [1, -1]]),
        c=exact([0, 4]),
        activation="relu",
    )
    second = qexpr.CompactLayer(
        wr=exact([[0, -2]]), br=exact([0]), wb=exact([[1, 0]]), c=exact([8]), activation="relu"
    )
    return qexpr.Network(2, (first, second, qexpr.LinearLayer(w=[[1]], b=[0])))


def test_lemniscate_lobes_touching_at_the_node_are_two_regions():
    result = exact_regions(lemniscate(), box=BOX2)
    assert sorted(result.patterns) == [(True, True, False)] * 2 + [(True, True, True)]
    for point, pattern in zip(result.samples, result.patterns):
        x, y = point
        assert ((x * x + y * y) ** 2 - 2 * (x * x - y * y) > 0) == pattern[2]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_two_quadratic_layers_against_grid_and_second_shear(seed):
    net = qexpr.random_network("quadratic", [2, 2, 2, 1], seed=seed)
    first, second = exact_regions(net), exact_regions(net, seed=7)
    assert first.regions == second.regions
    assert sorted(first.patterns) == sorted(second.patterns)
    for point, pattern in zip(first.samples, first.patterns):
        assert exact_pattern(net, point) == pattern
    grid = grid_slice(net, resolution=256)
    assert {tuple(bool(v) for v in p) for p in grid.patterns} <= set(first.patterns)


def test_no_relu_is_one_region():
    net = qexpr.random_network("square", [2, 3, 1], seed=0)
    result = exact_regions(net, box=[0, 1, 0, 1])
    assert result.regions == 1 and result.patterns == ((),)


def test_float_weights_are_read_exactly():
    exact = qexpr.random_network("quadratic", [2, 3, 1], seed=2)
    floats = exact.to_float()
    expected = exact_regions(floats.to_exact())
    assert exact_regions(floats).patterns == expected.patterns


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"box": [1, 0, 0, 1]}, qexpr.QexprValueError, "XMIN < XMAX"),
        ({"box": ["a", 1, 0, 1]}, qexpr.QexprValueError, "box"),
        ({"seed": -1}, qexpr.QexprValueError, "seed"),
        ({"seed": True}, qexpr.QexprValueError, "seed"),
        ({"max_work": -1}, qexpr.QexprValueError, "max_work"),
        ({"max_work": 1.5}, qexpr.QexprValueError, "max_work"),
        ({"plane": [[0, 0], [1, 0]]}, qexpr.QexprValueError, "three points"),
    ],
)
def test_bad_arguments_raise_one_clear_error(kwargs, error, words):
    net = qexpr.random_network("quadratic", [2, 2, 1], seed=0)
    with pytest.raises(error, match=words):
        exact_regions(net, **kwargs)


def test_not_a_network():
    with pytest.raises(qexpr.QexprTypeError, match="net"):
        exact_regions("net.json")


@settings(max_examples=60)
@given(
    st.lists(st.lists(st.integers(-5, 5), min_size=3, max_size=3), min_size=2, max_size=5),
    st.sampled_from([2, 3, 5]),
)
def test_sturm_count_over_a_quadratic_field_matches_float_roots(rows, d):
    flint = pytest.importorskip("flint")
    from qexpr.slice._field import Field, real_root_count
    from qexpr.spline._algebraic import RootCache, odd_real_roots

    # f(α, v) = Σ_j (a_j + b_j α + c_j α²) v^j with α = √d, against numpy's roots in float.
    alpha = odd_real_roots(flint.fmpq_poly([-d, 0, 1]), RootCache())[1]
    coeffs = [flint.fmpq_poly(row) for row in rows]
    values = [row[0] + row[1] * d**0.5 + row[2] * d for row in rows]
    if not any(rows[-1]) or abs(values[-1]) < 1e-6:
        return
    roots = np.roots(values[::-1])
    # Only well-conditioned cases: roots apart and clearly real or clearly not.
    if len(roots) > 1 and min(abs(a - b) for a, b in itertools.combinations(roots, 2)) < 1e-4:
        return
    if any(1e-9 < abs(r.imag) < 1e-4 for r in roots):
        return
    expected = sum(abs(r.imag) <= 1e-9 for r in roots)
    assert real_root_count(Field(alpha), coeffs) == expected


@settings(max_examples=40)
@given(st.lists(st.integers(-20, 20), min_size=3, max_size=7))
def test_roots_from_float_guesses_equal_the_isolated_roots(coeffs):
    flint = pytest.importorskip("flint")
    from qexpr.slice._line import guessed_roots
    from qexpr.spline._algebraic import _isolate

    poly = flint.fmpz_poly(coeffs)
    if poly.degree() < 2:
        return
    for factor, _ in poly.factor()[1]:
        if factor.degree() >= 2:
            factor = factor if factor.leading_coefficient() > 0 else -factor
            guessed, isolated = guessed_roots(factor), _isolate(factor)
            if guessed is not None:
                assert guessed == isolated
                for a, b in zip(guessed, isolated):
                    assert abs(float(a) - float(b)) <= 1e-12 * (1 + abs(float(b)))
                    assert factor(a.bounds[0]) * factor(a.bounds[1]) < 0


def test_simple_roots_on_an_irrational_line_by_hand():
    flint = pytest.importorskip("flint")
    from qexpr.slice._line import line_order, simple_roots
    from qexpr.spline._algebraic import RealAlgebraic, RootCache, odd_real_roots

    # On u = √2 the curve v² - u has the simple roots ±2^(1/4); v - 1 has the root 1.
    x, y = flint.fmpq_mpoly_ctx.get(("x", "y"), "lex").gens()
    alpha = odd_real_roots(flint.fmpq_poly([-2, 0, 1]), RootCache())[1]
    low, high = simple_roots(y * y - x, alpha, 2, RootCache())
    for root, value in ((low, -(2**0.25)), (high, 2**0.25)):
        lo, hi = root.bounds
        assert float(lo) < value < float(hi)
    one = RealAlgebraic.rational(1)
    assert line_order([high, one, low]) == [low, one, high]


def global_regions(net: qexpr.Network, curves: tuple) -> tuple[int, list]:
    """Regions from one decomposition of all the curves over the whole box (the method before
    the per-prefix decompositions), patterns from the network's own exact evaluation."""
    from qexpr.slice._cad import _CTX, _Cache, _decompose_generic
    from qexpr.slice._curves import _PRECISION, _components
    from qexpr.spline._algebraic import working_precision

    x, y = _CTX.gens()
    edges = [x + 1, y + 1, x - 1, y - 1]
    with working_precision(_PRECISION):
        cut = _decompose_generic([*curves, *edges], (-1, 1, -1, 1), 3, _Cache(), None)
    states = [exact_pattern(net, point) for point in cut.samples]
    components = _components(cut, states)
    return len(components), sorted(states[c] for c in components)


@settings(max_examples=4, deadline=None)
@given(st.sampled_from([[2, 2, 2, 1], [2, 1, 1, 1, 1], [2, 2, 1, 1, 1]]), st.integers(0, 2**16))
def test_per_prefix_equals_one_global_decomposition(widths, seed):
    net = qexpr.random_network("quadratic", widths, seed=seed)
    result = exact_regions(net)
    assert (result.regions, sorted(result.patterns)) == global_regions(net, result.curves)
    for point, pattern in zip(result.samples, result.patterns):
        assert exact_pattern(net, point) == pattern


# Region counts of random quadratic networks on [-1, 1]² measured before the per-prefix
# decompositions, by one global decomposition with two different shears (docs/benchmarks.md,
# part 3).
GLOBAL_COUNTS = [([2, 2, 2, 1], 0, 5), ([2, 2, 2, 1], 1, 5), ([2, 2, 2, 1], 2, 9)]
GLOBAL_COUNTS += [([2, 3, 3, 1], 0, 10), ([2, 3, 3, 1], 1, 5)]


@pytest.mark.parametrize(("widths", "seed", "expected"), GLOBAL_COUNTS)
def test_deep_quadratic_counts_equal_the_global_decomposition(widths, seed, expected):
    net = qexpr.random_network("quadratic", widths, seed=seed)
    result = exact_regions(net)
    assert result.regions == expected
    for point, pattern in zip(result.samples, result.patterns):
        assert exact_pattern(net, point) == pattern
    grid = grid_slice(net, resolution=128)
    seen = {tuple(bool(v) for v in p) for p in grid.patterns}
    assert seen <= set(result.patterns)
    assert len(seen) <= result.regions


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 2), st.integers(0, 2**16), st.integers(1, 50))
def test_two_quadratic_layers_do_not_depend_on_the_shears(width, net_seed, shear_seed):
    net = qexpr.random_network("quadratic", [2, width, width, 1], seed=net_seed)
    first, second = exact_regions(net), exact_regions(net, seed=shear_seed)
    assert first.regions == second.regions
    assert sorted(first.patterns) == sorted(second.patterns)


def test_prefix_cells_are_kept_only_inside_the_earlier_strips():
    # Two quadratic layers: the second layer's decompositions reuse the first one's shear
    # (restricted to the strips holding their prefix) and compute fewer cells in all than
    # one global decomposition of the same curves.
    net = qexpr.random_network("quadratic", [2, 2, 2, 1], seed=2)
    result = exact_regions(net)
    from qexpr.slice._cad import _CTX, _Cache, _decompose_generic
    from qexpr.slice._curves import _PRECISION
    from qexpr.spline._algebraic import working_precision

    x, y = _CTX.gens()
    edges = [x + 1, y + 1, x - 1, y - 1]
    with working_precision(_PRECISION):
        whole = _decompose_generic([*result.curves, *edges], (-1, 1, -1, 1), 0, _Cache(), None)
    assert result.shears == (whole.shear,)
    assert result.cells < len(whole.samples)


def test_a_hint_shear_not_generic_for_the_new_curves_falls_back_to_the_whole_box():
    from qexpr.slice._cad import _CTX, _Cache, _decompose_generic, _Hint
    from qexpr.slice._curves import _PRECISION
    from qexpr.spline._algebraic import working_precision

    # With the shear s = 1 the line x = y becomes u = 0, vertical: not generic. The hint
    # covers no strip, so using it would give no cell at all.
    x, y = _CTX.gens()
    curves = [x - y, x + 1, y + 1, x - 1, y - 1]
    with working_precision(_PRECISION):
        cut = _decompose_generic(curves, (-1, 1, -1, 1), 0, _Cache(), _Hint(Fraction(1), ()))
    assert cut.shear != 1
    assert {px < py for px, py in cut.samples} == {True, False}


def test_selection_on_a_critical_line_survives_huge_cancelling_coefficients():
    flint = pytest.importorskip("flint")
    from qexpr.slice._cad import _CTX, _select
    from qexpr.spline._algebraic import RealAlgebraic, RootCache, odd_real_roots

    # poly(u, v) = 10^400 (u² - 2) + v - 1 is v - 1 on u = √2, but its coefficients cancel
    # 1330 bits there (as a gcd over Q(α) can): only the candidate 1 is a root.
    x, y = _CTX.gens()
    alpha = odd_real_roots(flint.fmpq_poly([-2, 0, 1]), RootCache())[1]
    poly = 10**400 * (x * x - 2) + y - 1
    near = [RealAlgebraic.rational(1), RealAlgebraic.rational(Fraction(10001, 10000))]
    assert _select(poly, alpha, near, 1) == [RealAlgebraic.rational(1)]
