"""Collapse study: the majority-class rule, plateau vs divergence on hand-made loss curves,
the signal at initialisation, traced runs against train(), clipping and α = β = 0."""

import math
from dataclasses import replace

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from qexpr._errors import QexprValueError
from qexpr.nn import (
    KINDS,
    QMLP,
    ReLinear,
    TrainConfig,
    TrainingDivergedError,
    linearity_report,
    load_dataset,
    train,
)
from qexpr.studies._collapse import (
    Condition,
    CurveVerdict,
    Outcome,
    RunTrace,
    classify_curve,
    collapsed,
    init_signal,
    label_entropy,
    majority_rate,
    markdown_table,
    moving_average,
    outcome_of,
    plot_loss_curves,
    run_condition,
    summarise,
    trace_run,
)

torch.set_num_threads(1)

TWIN = "relu" if "relu" in KINDS else "linear"  # the conventional network's kind ("linear" before)


def test_majority_rate_by_hand():
    assert majority_rate(torch.tensor([0, 0, 0, 1])) == 0.75
    assert majority_rate(torch.tensor([2, 1, 0, 2, 1, 2])) == 0.5


@pytest.mark.parametrize(
    ("accuracy", "majority", "expected"),
    [
        (0.83, 0.5, False),  # a conventional binary run: trained (2/k said collapsed)
        (0.52, 0.5, True),  # barely above a coin
        (0.078, 0.1, True),  # standard-init digits in the collapse study
        (0.93, 0.1, False),
        (0.9, 0.9, True),  # always the majority class of an imbalanced set
    ],
)
def test_collapse_rule_by_hand(accuracy, majority, expected):
    assert collapsed(accuracy, majority) is expected


def test_a_conventional_binary_run_is_not_collapsed():
    data = load_dataset("synthetic-classification")
    config = TrainConfig(
        dataset="synthetic-classification",
        widths=(32, 32),
        kind=TWIN,
        epochs=15,
        batch_size=64,
        lr=0.1,
        relinear=ReLinear("none"),
    )
    outcome = run_condition(Condition("binary", config), seed=0, data=data)
    assert 0.6 < outcome.test_accuracy < 1.0  # a real binary run (0.775), short of 2/k = 1
    assert outcome.status == "trained"


# --- plateau vs divergence: hand-known answers on synthetic loss curves -------------------


def test_label_entropy_by_hand():
    assert label_entropy(torch.tensor([0, 0, 1, 1])) == pytest.approx(math.log(2), abs=1e-15)
    p = (0.75, 0.25)
    expected = -sum(q * math.log(q) for q in p)
    assert label_entropy(torch.tensor([1, 1, 1, 0])) == pytest.approx(expected, abs=1e-15)
    assert label_entropy(torch.arange(10).repeat(7)) == pytest.approx(math.log(10), abs=1e-14)
    assert label_entropy(torch.tensor([3, 3, 3])) == 0.0  # a missing label does not count


def test_moving_average_by_hand():
    assert moving_average([1.0, 2.0, 3.0, 4.0], 2) == [1.5, 2.5, 3.5]
    assert moving_average([1.0, 2.0], 3) == []
    with pytest.raises(QexprValueError, match="window"):
        moving_average([1.0], 0)


LN10 = math.log(10)


def test_a_noisy_flat_curve_is_a_plateau():
    losses = [LN10 + (0.05 if i % 2 else -0.05) for i in range(40)]
    verdict = classify_curve(range(40), losses, level=LN10, limit=1e3, window=4)
    assert verdict == CurveVerdict("plateau", None)


def test_a_drop_is_learning_at_the_step_its_window_crosses():
    # 10 steps at 2.3, then 1.0: a 4-step mean with k values of 1.0 is 2.3 - 1.3k/4, below
    # 2.2 from k = 1, i.e. the window ending at the first 1.0 (index 10 -> step 110).
    losses = [2.3] * 10 + [1.0] * 10
    verdict = classify_curve(range(100, 120), losses, level=2.3, limit=1e3, window=4)
    assert verdict == CurveVerdict("learning", 110)


@pytest.mark.parametrize(("bad", "index"), [(math.inf, 5), (math.nan, 2), (1e4, 3), (1000.5, 0)])
def test_divergence_is_the_first_loss_past_the_limit(bad, index):
    losses = [2.3] * 4 + [0.5] * 6  # learning first: divergence still wins
    losses[index] = bad
    verdict = classify_curve(range(7, 17), losses, level=2.3, limit=1e3, window=2)
    assert verdict == CurveVerdict("diverged", 7 + index)


def test_a_loss_at_the_limit_is_not_a_divergence():
    verdict = classify_curve([0, 1], [1e3, 1e3], level=2.3, limit=1e3, window=1)
    assert verdict == CurveVerdict("plateau", None)


def test_curve_lengths_must_agree():
    with pytest.raises(QexprValueError, match="steps and losses"):
        classify_curve([0, 1], [1.0], level=1.0, limit=1e3, window=1)


@given(
    plateau=st.integers(1, 30),
    window=st.integers(1, 8),
    drop=st.floats(0.2, 2.0),
    tolerance=st.floats(0.01, 0.15),
)
def test_escape_step_matches_the_window_count(plateau, window, drop, tolerance):
    # Plateau values exactly at the level, then level - drop. A window holding k dropped
    # values has mean level - k·drop/window: it is below level - tolerance from
    # k = floor(tolerance·window/drop) + 1, so the escape is k - 1 steps after the drop.
    ratio = tolerance * window / drop
    assume(abs(ratio - round(ratio)) > 1e-6 and plateau >= window)
    k = math.floor(ratio) + 1
    assume(k <= 40)
    level = 2.0
    losses = [level] * plateau + [level - drop] * 40
    verdict = classify_curve(
        range(len(losses)), losses, level=level, limit=1e3, window=window, tolerance=tolerance
    )
    assert verdict == CurveVerdict("learning", plateau + k - 1)


# --- the signal at initialisation, by hand ---------------------------------------------------


def test_init_signal_by_hand():
    model = QMLP(2, [2], 1, kind=TWIN)
    first, last = model.layers
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
        first.bias.copy_(torch.tensor([0.0, -1.0]))  # unit 1 is -1 on every input: dead
        last.weight.copy_(torch.tensor([[2.0, 7.0]]))
        last.bias.copy_(torch.tensor([0.5]))
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [-1.0, 5.0]])
    signal = init_signal(model, list(model.layers), x)
    # layer 1: unit 0 is (1, 3, -1), std 2; unit 1 constant: mean spread 1.
    # logits: 2·relu(1, 3, -1) + 0.5 = (2.5, 6.5, 0.5), std 2·sqrt(7/3).
    assert signal.spread == pytest.approx((1.0, 2 * math.sqrt(7 / 3)), rel=1e-6)
    assert signal.dead == (0.5,)
    assert all(not layer._forward_hooks for layer in model.layers)
    with pytest.raises(QexprValueError, match="at least 2 inputs"):
        init_signal(model, list(model.layers), x[:1])


# --- traced runs: the same run as train(), divergence step, what clipping did -----------------


def _digits_config(**kw) -> TrainConfig:
    return TrainConfig(**{"widths": (16,), "epochs": 2, "lr": 0.1, "batch_size": 64, **kw})


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_trace_is_the_run_train_makes(digits):
    config = _digits_config(relinear=ReLinear("sg", clip=1.0))
    trace = trace_run(config, digits)
    history = train(config, data=digits).history
    n, size = len(digits.x_train), config.batch_size
    per_epoch = math.ceil(n / size)
    assert trace.steps == tuple(range(config.epochs * per_epoch))
    for epoch, row in enumerate(history):
        losses = trace.losses[epoch * per_epoch : (epoch + 1) * per_epoch]
        sizes = [min(size, n - s) for s in range(0, n, size)]
        summed = sum(v * b for v, b in zip(losses, sizes, strict=True))
        assert summed / n == pytest.approx(row["train_loss"], rel=1e-12)
        norms = trace.grad_norms[epoch * per_epoch : (epoch + 1) * per_epoch]
        assert max(norms) == pytest.approx(row["grad_norm_max"], rel=1e-12)
    assert trace.test_accuracy == history[-1]["test_accuracy"]
    assert trace.diverged_step is None


def test_trace_diverges_at_the_step_train_reports(digits):
    config = _digits_config(init="standard", relinear=ReLinear("none"), lr=0.3)
    with pytest.raises(TrainingDivergedError) as err:
        train(config, data=digits)
    per_epoch = math.ceil(len(digits.x_train) / config.batch_size)
    expected = (err.value.epoch - 1) * per_epoch + err.value.step - 1
    trace = trace_run(config, digits)
    assert trace.diverged_step == expected
    assert trace.steps == tuple(range(expected + 1))  # the diverging epoch's steps included
    assert trace.losses[-1] == pytest.approx(err.value.loss, rel=1e-12)
    assert all(math.isfinite(v) and v <= config.loss_limit for v in trace.losses[:-1])
    assert math.isnan(trace.test_accuracy)
    outcome = outcome_of(Condition("x", config), 0, trace, digits)
    assert outcome.status == "diverged"
    assert outcome.steps_clipped is None


def test_clipping_changes_the_run_exactly_after_the_first_clipped_step(digits):
    plain = _digits_config(init="standard", relinear=ReLinear("none"), lr=0.1, epochs=1)
    clipped = replace(plain, relinear=ReLinear("none", clip=1.0))
    a, b = trace_run(plain, digits), trace_run(clipped, digits)
    first = next(i for i, norm in enumerate(b.grad_norms) if norm > 1.0)
    # Loss at step i is measured before step i: equal through the first clipped step.
    assert a.losses[: first + 1] == b.losses[: first + 1]
    assert a.losses[first + 1] != b.losses[first + 1]
    assert outcome_of(Condition("c", clipped), 0, b, digits).steps_clipped == b.steps_above(1.0)


def test_a_clip_that_never_engages_leaves_the_run_bit_identical(digits):
    # Standard init, 3 hidden layers: the plateau, gradient norms far below 1.
    plain = _digits_config(widths=(16, 16, 16), init="standard", relinear=ReLinear("none"))
    clipped = replace(plain, relinear=ReLinear("none", clip=1.0))
    a, b = trace_run(plain, digits), trace_run(clipped, digits)
    assert max(a.grad_norms) < 1.0
    assert outcome_of(Condition("c", clipped), 0, b, digits).steps_clipped == 0
    assert a == b


# --- weight shrinking with α = β = 0 is no weight shrinking --------------------------------


ZERO = {"alpha_g": 0.0, "alpha_b": 0.0, "beta_g": 0.0, "beta_b": 0.0}


@pytest.mark.parametrize(
    ("with_zero_penalty", "without", "weight_decay"),
    [
        (ReLinear("sg+sw", **ZERO), ReLinear("sg"), 1e-4),
        (ReLinear("sw", **ZERO), ReLinear("none"), 0.0),
    ],
)
def test_zero_coefficients_train_bit_for_bit_as_no_penalty(
    digits, with_zero_penalty, without, weight_decay
):
    base = _digits_config(init="standard", lr=0.05, epochs=1, weight_decay=weight_decay)
    a = train(replace(base, relinear=with_zero_penalty), data=digits)
    b = train(replace(base, relinear=without), data=digits)
    assert [row["relinear_penalty"] for row in a.history] == [0.0]
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_nonzero_penalty_changes_the_run(digits):
    # The control: the comparison above can fail. β > 0 pulls the terms to the reference,
    # so after one epoch the quadratic terms are nearer to it than with α = β = 0.
    base = _digits_config(init="standard", lr=0.05, epochs=1)
    pulled = train(replace(base, relinear=ReLinear("sw", beta_g=1.0, beta_b=1.0)), data=digits)
    free = train(replace(base, relinear=ReLinear("sw", **ZERO)), data=digits)
    assert pulled.history[0]["relinear_penalty"] > 0.0
    dev = [r.relative for r in linearity_report(pulled.model)]
    dev_free = [r.relative for r in linearity_report(free.model)]
    assert all(p < f for p, f in zip(dev, dev_free, strict=True))


def test_sw_with_zero_coefficients_still_spares_the_quadratic_terms_from_weight_decay(digits):
    # What "sw with α = β = 0" is *not*: "none" decays every parameter (bg toward 0), sw
    # puts the quadratic terms in groups without weight decay.
    base = _digits_config(init="standard", lr=0.05, epochs=1, weight_decay=1e-2)
    a = train(replace(base, relinear=ReLinear("sw", **ZERO)), data=digits).model.state_dict()
    b = train(replace(base, relinear=ReLinear("none")), data=digits).model.state_dict()
    assert not torch.equal(a["layers.0.bg"], b["layers.0.bg"])


# --- summaries and the figure ----------------------------------------------------------------


def test_summarise_counts_by_hand():
    outcomes = [
        Outcome("a", 0, 0.1, "trained", 0.2, 0.9, steps=10, steps_clipped=4, max_grad_norm=5.0),
        Outcome("a", 1, 0.1, "collapsed", 2.3, 0.1, steps=10, steps_clipped=0, max_grad_norm=0.5),
        Outcome("a", 2, 0.1, "diverged", math.nan, math.nan, steps=3, steps_clipped=1),
        Outcome("b", 0, 0.1, "diverged", math.nan, math.nan, steps=2),
    ]
    a, b = summarise(outcomes)
    assert (a["runs"], a["diverged"], a["collapsed"]) == (3, 1, 1)
    assert (a["steps"], a["steps_clipped"]) == (23, 5)
    assert a["median_accuracy"] == pytest.approx(0.5)  # finished runs: 0.9 and 0.1
    assert a["median_max_grad_norm"] == pytest.approx(2.75)  # finished runs: 5 and 0.5
    assert b["steps_clipped"] is None
    assert math.isnan(b["median_max_grad_norm"])
    table = markdown_table([a, b]).splitlines()
    assert table[2].endswith("| 5/23 | 2.75 |")
    assert table[3].endswith("| – | – |")


def test_loss_curve_figure_is_written(tmp_path):
    finished = RunTrace(tuple(range(6)), (2.3, 2.3, 2.0, 1.0, 0.5, 0.2), (1.0,) * 6, None, 0, 1)
    diverged = RunTrace((0, 1, 7), (2.3, 2.2, 1e9), (0.5, 0.6, math.nan), 7, math.nan, math.nan)
    early = RunTrace((3,), (math.inf,), (math.nan,), 3, math.nan, math.nan)
    path = plot_loss_curves(
        [("one", [("x", finished), ("y", diverged)]), ("two", [("y", early)])],
        tmp_path / "curves.png",
        level=2.3,
        window=2,
        title="t",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind
