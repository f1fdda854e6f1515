"""plot_spline: the y-range shows the breakpoints; the title says exact, certified or estimate."""

from __future__ import annotations

import numpy as np
import pytest

import qexpr
from qexpr.studies._plots import plot_spline, spline_y_range


def test_y_range_holds_every_breakpoint_value_and_clips_the_tails():
    net = qexpr.random_network("quadratic", [1, 3, 3, 1], seed=1)
    form = qexpr.spline_form(net)
    points = form.float_breakpoints()
    assert points.size >= 2
    bottom, top = spline_y_range(form)
    values = net.evaluate(points[:, None])[:, 0]
    assert np.all((bottom <= values) & (values <= top))
    # Far outside the breakpoints a degree-8 output leaves the range: the tails are clipped.
    far = points.max() + 10 * (points.max() - points.min()) + 10
    assert not bottom <= net.evaluate(np.array([[far]]))[0, 0] <= top


@pytest.mark.parametrize(
    "mode, word", [("exact", "exact"), ("auto", "certified"), ("float", "estimate")]
)
def test_title_says_how_the_numbers_were_obtained(tmp_path, monkeypatch, mode, word):
    import matplotlib.axes

    titles = []
    original = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(
        matplotlib.axes.Axes,
        "set_title",
        lambda ax, t, **kw: titles.append(t) or original(ax, t, **kw),
    )
    form = qexpr.spline_form(qexpr.random_network("relu", [1, 4, 1], seed=0), mode=mode)
    assert plot_spline(form, tmp_path / "s.png", title="net").exists()
    assert word in titles[-1]
