"""Splines cross process boundaries (pickle), use one serialiser, and leave flint's precision."""

from __future__ import annotations

import pickle

import flint
import numpy as np
import pytest

import qexpr


@pytest.fixture(scope="module")
def net() -> qexpr.Network:
    return qexpr.random_network("quadratic", [1, 3, 2, 1], seed=3)


@pytest.mark.parametrize("mode", ["exact", "float"])
def test_pickle_round_trip_keeps_the_spline(net, mode):
    form = qexpr.spline_form(net, mode=mode)
    copy = pickle.loads(pickle.dumps(form))
    assert copy.mode == form.mode and copy.degree == form.degree
    assert [float(b) for b in copy.breakpoints] == [float(b) for b in form.breakpoints]
    assert len(copy.piece_list) == len(form.piece_list)
    x = np.linspace(-3, 3, 41)
    np.testing.assert_allclose(copy(x), net.evaluate(x[:, None]), rtol=1e-7, atol=1e-7)


def test_exact_pickle_keeps_exact_objects(net):
    form = qexpr.spline_form(net, mode="exact")
    copy = pickle.loads(pickle.dumps(form))
    assert copy.breakpoints == form.breakpoints  # RealAlgebraic equality is exact
    assert [p.polys for p in copy.piece_list] == [p.polys for p in form.piece_list]
    assert [r.pattern for r in copy.region_list] == [r.pattern for r in form.region_list]
    assert copy.to_dict(exact_output=True) == form.to_dict(exact_output=True)


@pytest.mark.parametrize(
    "old, new", [("pieces", "piece_list"), ("regions", "region_list"), ("cells", "cell_list")]
)
def test_old_names_warn_and_still_work(net, old, new):
    form = qexpr.spline_form(net, mode="exact")
    with pytest.warns(DeprecationWarning, match=new):
        assert getattr(form, old) == getattr(form, new)


def test_piece_count_and_spline_share_the_serialiser(net):
    result = qexpr.count_pieces(net, mode="exact")
    assert result.to_dict() == result.spline.to_dict()
    record = result.to_dict()
    assert record["pieces"] == result.pieces == len(result.spline.piece_list)
    assert record["certified"] is True and record["exact_cells"] == len(result.spline.cell_list)


def test_float_spline_is_not_certified(net):
    record = qexpr.count_pieces(net, mode="float").to_dict()
    assert record["certified"] is False and record["exact_cells"] == 0
    with pytest.raises(qexpr.QexprValueError, match="exact_output"):
        qexpr.count_pieces(net, mode="float").to_dict(exact_output=True)


def test_counting_leaves_the_global_flint_precision_alone(net):
    before = flint.ctx.prec
    flint.ctx.prec = 77
    try:
        qexpr.count_pieces(qexpr.random_network("quadratic", [1, 2, 2, 1], seed=1), mode="exact")
        assert flint.ctx.prec == 77
    finally:
        flint.ctx.prec = before
