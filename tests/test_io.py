"""Reading and writing the qexpr-network/1 format, and its one-line errors."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import networks

import qexpr

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = sorted(FIXTURES.glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_round_trip_exactly(path, tmp_path):
    net = qexpr.load_network(path)
    assert net.is_exact
    out = tmp_path / "net.json"
    qexpr.save_network(net, out)
    again = qexpr.load_network(out)
    assert qexpr.network_to_dict(again) == qexpr.network_to_dict(net)
    # The written strings are the same rationals as the input file's.
    original = json.loads(path.read_text())
    for layer, written in zip(original["layers"], json.loads(out.read_text())["layers"]):
        for key in layer:
            if key not in ("neuron", "activation"):
                a = np.vectorize(Fraction)(np.array(layer[key], dtype=object))
                b = np.vectorize(Fraction)(np.array(written[key], dtype=object))
                assert (a == b).all()


def test_example_evaluates_by_hand():
    # quadratic-1-3-1 at x = 0: z1 = br*bg + c = (3/2*2 - 1/2, -3/2*6 + 1, -3/2*-7 + 1/2).
    net = qexpr.load_network(FIXTURES / "quadratic-1-3-1.json")
    h = [
        max(Fraction(3, 2) * 2 - Fraction(1, 2), 0),
        max(Fraction(-9) + 1, 0),
        Fraction(21, 2) + Fraction(1, 2),
    ]
    r = h[0] * 1 + h[2] * 3
    g = -h[0] + Fraction(4, 3) * h[1] - h[2] + Fraction(1, 3)
    expected = r * g + (-7 * h[0] ** 2 + 2 * h[1] ** 2 - h[2] ** 2) + 2
    assert net.evaluate_exact([[0]])[0, 0] == expected
    assert net.evaluate([[0.0]])[0, 0] == pytest.approx(float(expected))


@given(networks())
def test_random_networks_round_trip(net):
    assert qexpr.network_to_dict(qexpr.network_from_dict(qexpr.network_to_dict(net))) == (
        qexpr.network_to_dict(net)
    )


def test_float_weights_round_trip_as_exact_binary_values(tmp_path):
    net = qexpr.random_network("quadratic", [1, 3, 1], seed=4, exact=False)
    qexpr.save_network(net, tmp_path / "f.json")
    back = qexpr.load_network(tmp_path / "f.json")
    for a, b in zip(net.layers, back.layers):
        for key in a.keys:
            assert [Fraction(v) for v in getattr(a, key).flat] == list(getattr(b, key).flat)


def test_numbers_in_every_form():
    data = {
        "format": "qexpr-network/1",
        "input_dim": 1,
        "layers": [
            {
                "neuron": "linear",
                "w": [[1], ["-2/6"], ["0.125"], [0.1]],
                "b": ["1e-2", 3, "+4", "-0"],
            }
        ],
    }
    net = qexpr.network_from_dict(data)
    assert list(net.layers[0].w.flat) == [1, Fraction(-1, 3), Fraction(1, 8), Fraction(0.1)]
    assert list(net.layers[0].b) == [Fraction(1, 100), 3, 4, 0]
    assert net.layers[0].activation == "identity"


GOOD = json.loads((FIXTURES / "quadratic-1-3-1.json").read_text())


def mutate(fn):
    data = copy.deepcopy(GOOD)
    fn(data)
    return data


BAD_CASES = {
    "wrong format": (
        mutate(lambda d: d.update(format="qexpr-network/2")),
        ["'format'", "qexpr-network/1"],
    ),
    "unknown neuron": (
        mutate(lambda d: d["layers"][1].update(neuron="cubic")),
        ["layer 1", "'neuron'", "cubic"],
    ),
    "unknown activation": (
        mutate(lambda d: d["layers"][0].update(activation="tanh")),
        ["layer 0", "'activation'", "tanh"],
    ),
    "missing key": (mutate(lambda d: d["layers"][0].pop("wg")), ["layer 0", "'wg'", "missing"]),
    "extra key": (
        mutate(lambda d: d["layers"][1].update(w=[[1]])),
        ["layer 1", "'w'", "unexpected"],
    ),
    "ragged matrix": (
        mutate(lambda d: d["layers"][1]["wb"][0].pop()),
        ["layer 1", "'wb'", "3 numbers"],
    ),
    "wrong rows": (mutate(lambda d: d["layers"][0]["wg"].pop()), ["layer 0", "'wg'", "3 rows"]),
    "short vector": (mutate(lambda d: d["layers"][0]["c"].pop()), ["layer 0", "'c'", "3 numbers"]),
    "non-numeric": (
        mutate(lambda d: d["layers"][0]["br"].__setitem__(1, "abc")),
        ["layer 0", "'br'", "abc"],
    ),
    "boolean": (
        mutate(lambda d: d["layers"][0]["br"].__setitem__(1, True)),
        ["layer 0", "'br'", "boolean"],
    ),
    "zero denominator": (
        mutate(lambda d: d["layers"][0]["br"].__setitem__(1, "1/0")),
        ["layer 0", "'br'", "1/0"],
    ),
    "bad input_dim": (mutate(lambda d: d.update(input_dim=0)), ["'input_dim'", "positive integer"]),
    "no layers": (mutate(lambda d: d.update(layers=[])), ["'layers'", "non-empty"]),
    "dimension mismatch": (
        mutate(lambda d: d.update(input_dim=2)),
        ["layer 0", "'wr'", "2 numbers"],
    ),
    "extra top-level key": (mutate(lambda d: d.update(comment="x")), ["'comment'", "unexpected"]),
    "not an object": ([1, 2], ["JSON object"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_refused_with_one_line(case, tmp_path):
    data, words = BAD_CASES[case]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(qexpr.NetworkFormatError) as info:
        qexpr.load_network(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for word in words:
        assert word in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["{not json", '{"format": NaN}', '{"x": Infinity}', ""])
def test_malformed_json_and_non_finite_constants(text, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(qexpr.NetworkFormatError, match=str(path)):
        qexpr.load_network(path)


def test_nan_and_infinity_entries(tmp_path):
    for token in ("NaN", "Infinity", "-Infinity", "1e999"):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(GOOD).replace('"-1/2"', token, 1))
        with pytest.raises(qexpr.NetworkFormatError, match="layer 0"):
            qexpr.load_network(path)


def test_missing_file():
    with pytest.raises(qexpr.NetworkFormatError, match="cannot read"):
        qexpr.load_network("/nonexistent/net.json")


def test_the_documented_example_loads():
    doc = (Path(__file__).parent.parent / "docs" / "network-format.md").read_text()
    example = json.loads(doc.split("```json")[1].split("```")[0])
    net = qexpr.network_from_dict(example)
    assert net.widths == (1, 2, 1)
    assert net.layers[1].activation == "identity"
    # z1 at x = 0: (0)(1) + 0 + 0 = 0 and (1)(-5/2) + 3 = 1/2 -> output 0 - 1/2.
    assert net.evaluate_exact([[0]])[0, 0] == Fraction(-1, 2)


@given(
    st.sampled_from(["", "-", "+"]),
    st.integers(1, 1100),
    st.integers(0, 9),
    st.integers(-1100, 1100),
)
@settings(max_examples=40)
def test_decimal_text_is_exact_within_the_limits_and_refused_beyond(sign, digits, lead, exponent):
    from qexpr._numbers import MAX_DIGITS, MAX_EXPONENT, parse_number

    text = f"{sign}{lead}{'7' * (digits - 1)}e{exponent}"
    if digits <= MAX_DIGITS and abs(exponent) <= MAX_EXPONENT:
        assert parse_number(text, "x") == Fraction(text)
    else:
        with pytest.raises(qexpr.QexprValueError, match="x: "):
            parse_number(text, "x")
