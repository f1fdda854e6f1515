"""Bridge: a trained QMLP converted to a qexpr network computes the same function."""

import numpy as np
import pytest
import torch

import qexpr
from qexpr._errors import QexprError
from qexpr.nn import KINDS, QMLP, TrainConfig, to_qexpr_network, track_pieces

torch.set_num_threads(1)


def _legacy_square_activation(kind):
    """A quadratic/compact QMLP with z² (only the deprecated ``activation`` builds it)."""
    with pytest.warns(DeprecationWarning, match="activation"):
        return QMLP(1, [4, 3], 1, kind=kind, init="standard", activation="square")


@pytest.mark.parametrize(
    "build",
    [lambda k=k: QMLP(1, [4, 3], 1, kind=k, init="standard") for k in KINDS]
    + [
        lambda: _legacy_square_activation("quadratic"),
        lambda: _legacy_square_activation("compact"),
    ],
    ids=[*KINDS, "quadratic-square", "compact-square"],
)
def test_converted_network_evaluates_like_the_torch_model(build):
    torch.manual_seed(0)
    model = build().double()
    net = to_qexpr_network(model)
    x = np.linspace(-2, 2, 41)[:, None]
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.evaluate(x), expected, rtol=1e-10, atol=1e-12)
    assert net.widths == (1, 4, 3, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_means_the_same_network_in_torch_and_in_the_core(kind):
    """QMLP(kind=k) bridges to networks with the neurons and activations of random_network(k)."""
    bridged = to_qexpr_network(QMLP(2, [3, 3], 1, kind=kind))
    core = qexpr.random_network(kind, (2, 3, 3, 1), seed=0)
    describe = [(type(la).__name__, la.activation) for la in bridged.layers]
    assert describe == [(type(la).__name__, la.activation) for la in core.layers]


def test_pieces_of_a_relu_mlp_match_a_dense_kink_count():
    torch.manual_seed(1)
    model = QMLP(1, [6], 1, kind="relu")
    result = qexpr.count_pieces(to_qexpr_network(model), mode="float", domain=(-3, 3))
    w, b = model.layers[0].weight.detach().double()[:, 0], model.layers[0].bias.detach().double()
    kinks = (-b / w).numpy()
    inside = np.sum((kinks > -3) & (kinks < 3))
    assert result.pieces == inside + 1 and result.degree == 1  # generic weights: every kink


def test_track_pieces_over_epochs():
    cfg = TrainConfig(dataset="synthetic-regression", widths=(4,), epochs=2, lr=0.01)
    rows = track_pieces(cfg)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(r["pieces"] >= 1 and r["degree"] >= 1 for r in rows)


def test_square_mlp_is_one_polynomial_of_degree_four():
    torch.manual_seed(2)
    model = QMLP(1, [3, 3], 1, kind="square").double()
    result = qexpr.count_pieces(to_qexpr_network(model), mode="exact")
    x = torch.linspace(-1, 1, 9, dtype=torch.float64)[:, None]
    with torch.no_grad():
        y = model(x)[:, 0].numpy()
    fit = np.polynomial.Polynomial.fit(x[:, 0].numpy(), y, 4)  # 9 points, degree 4: exact
    np.testing.assert_allclose(fit(x[:, 0].numpy()), y, rtol=1e-9, atol=1e-9)
    assert result.pieces == 1 and result.degree == 4


def test_bridge_rejects_other_models():
    with pytest.raises(QexprError):
        to_qexpr_network(torch.nn.Linear(1, 1))
