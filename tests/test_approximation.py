"""Approximation study: seeded fits, errors checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qexpr._errors import QexprError
from qexpr.studies._approximation import TARGETS, fit, markdown_table, study
from qexpr.studies._plots import plot_approximation

torch.set_num_threads(1)
TEST_X = np.linspace(-1, 1, 4001)


def _rmse(values: np.ndarray, target: str) -> float:
    return float(np.sqrt(np.mean((values - TARGETS[target](TEST_X)) ** 2)))


def test_same_seed_same_numbers_and_caller_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = fit("runge", "quadratic", (4,), steps=60, seed=7)
    after = torch.rand(1)
    b = fit("runge", "quadratic", (4,), steps=60, seed=7)
    c = fit("runge", "quadratic", (4,), steps=60, seed=8)
    assert a == b
    assert a.test_rmse != c.test_rmse
    assert torch.equal(before, after)  # the fit forked the generator


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_width_eight_learns_abs_which_it_represents_exactly(seed):
    # |x| = relu(x) + relu(-x): the error can go to zero, far below the best quadratic
    # polynomial's error (least squares on the test grid, computed independently).
    result = fit("abs", "relu", (8,), steps=400, lr=0.03, seed=seed)
    best_quadratic = _rmse(np.polyval(np.polyfit(TEST_X, np.abs(TEST_X), 2), TEST_X), "abs")
    assert result.test_rmse < 1e-2 < best_quadratic / 5
    assert result.pieces >= 2 and result.degree == 1


@pytest.mark.parametrize(("hidden", "degree"), [((6,), 2), ((4, 4), 4)])
def test_square_network_cannot_beat_the_best_polynomial_of_its_degree(hidden, degree):
    result = fit("kink_bump", "square", hidden, steps=400, lr=0.03, seed=0)
    y = TARGETS["kink_bump"](TEST_X)
    best = _rmse(np.polynomial.Polynomial.fit(TEST_X, y, degree)(TEST_X), "kink_bump")
    assert result.pieces == 1 and result.degree <= degree
    assert best * (1 - 1e-9) <= result.test_rmse < 3 * best


def test_measured_error_and_parameters_match_the_converted_qexpr_network(monkeypatch):
    # Evaluate the trained model through the qexpr network instead of torch.
    import qexpr.nn

    captured = []
    original = qexpr.nn.to_qexpr_network
    monkeypatch.setattr(
        qexpr.nn, "to_qexpr_network", lambda m: captured.append(original(m)) or captured[-1]
    )
    result = fit("sin4pi", "quadratic", (4, 4), steps=80, seed=1)
    values = captured[0].evaluate(TEST_X[:, None])[:, 0]
    assert result.test_rmse == pytest.approx(_rmse(values, "sin4pi"), rel=1e-9)
    # A quadratic layer m -> o has wr, wg, wb (o×m) and br, bg, c (o).
    assert result.parameters == sum(3 * (o * m + o) for m, o in [(1, 4), (4, 4), (4, 1)])


def test_study_table_and_plot(tmp_path):
    fits = study(["abs"], ["relu", "square"], [(3,), (3, 3)], steps=20)
    assert [(f.kind, f.hidden) for f in fits] == [
        ("relu", (3,)),
        ("relu", (3, 3)),
        ("square", (3,)),
        ("square", (3, 3)),
    ]
    table = markdown_table(fits).splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| \\|x\\| | 3 |")
    assert f"{fits[0].test_rmse:.2e}" in table[2]
    assert plot_approximation(fits, tmp_path / "a.png", "abs").stat().st_size > 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": "cos"},
        {"kind": "compact"},
        {"steps": 0},
        {"steps": True},
        {"lr": -1.0},
        {"lr": float("nan")},
        {"test_points": 0},
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs):
    args = {"target": "abs", "kind": "relu", "hidden": (2,), "steps": 1, **kwargs}
    with pytest.raises(QexprError) as info:
        fit(**args)
    assert "\n" not in str(info.value)
