"""``qexpr dimension`` on the command line: JSON, table, help, one-line errors."""

from __future__ import annotations

import json

import pytest
from cli import assert_one_line_error, invoke, run_cli


def run(*args: str):
    return invoke("dimension", *args)


def test_json_has_the_documented_keys() -> None:
    result = run("--kind", "square", "--widths", "2,3,2,3,4", "--r", "2", "--json")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    keys = {"dimension", "ambient", "expected", "parameters", "certified", "defect", "primes"}
    assert keys | {"float_rank", "singular_gap", "modular_ranks"} <= data.keys()
    assert data["expected"] - data["dimension"] == data["defect"]


def test_table_and_per_layer_r() -> None:
    result = run("--kind", "quadratic", "--widths", "2,2,2,1", "--r", "1,2", "--bias")
    assert result.returncode == 0
    assert "certified" in result.stdout and "r=[1, 2]" in result.stdout


def test_help_shows_examples() -> None:
    result = run("--help")
    assert result.returncode == 0 and "Examples" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--widths", "2,x,1"],
        ["--widths", "2"],
        ["--widths", "2,0,1"],
        ["--widths", "2,2,1", "--r", "0"],
        ["--widths", "2,2,1", "--r", "two"],
        ["--widths", "2,2,2,1", "--r", "2,2,2"],
        ["--widths", "2,2,1", "--kind", "relu"],
        ["--widths", "2,2,1", "--seed", "-3"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args) -> None:
    assert_one_line_error(run(*args))


def test_through_the_qexpr_entry_point() -> None:
    result = run_cli("dimension", "--kind", "square", "--widths", "2,3,2,3,4", "--json")
    assert result.returncode == 0, result.stderr
    # KTB's example: 30 weights; outputs are 4 binary forms of degree 2^3 = 8 (9 monomials).
    data = json.loads(result.stdout)
    assert (data["parameters"], data["ambient"]) == (2 * 3 + 3 * 2 + 2 * 3 + 3 * 4, 4 * 9)
    assert_one_line_error(run_cli("dimension", "--kind", "relu", "--widths", "2,2,1"), "kind")
