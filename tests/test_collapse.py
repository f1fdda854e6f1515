"""Collapse classification: the majority-class rule, hand-checked and on a binary run."""

import pytest
import torch

from qexpr.nn import KINDS, ReLinear, TrainConfig, load_dataset
from qexpr.studies._collapse import Condition, collapsed, majority_rate, run_condition

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
