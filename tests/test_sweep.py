"""Sweeps: parallel results against direct calls, CSV table, resume, errors, time limits, Dask."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pytest
from cli import assert_one_line_error, run_cli

import qexpr
from qexpr.sweep import _sweep
from qexpr.sweep._jobs import JobType, job_grid, job_key, register_job_type
from qexpr.sweep._sweep import read_sweep, run_sweep


def _fake_run(seed: int, sleep: float, fail: bool, log: str) -> dict:
    """A job that records each execution in ``log``, sleeps, and may raise."""
    if log:
        with open(log, "a") as stream:
            stream.write(f"{seed}\n")
    time.sleep(sleep)
    if fail:
        raise ValueError(f"seed {seed} failed\non purpose")
    return {"square": seed * seed}


def _fake_check(params: dict) -> dict:
    return params


FAKE = register_job_type(
    JobType(
        name="fake",
        params=("seed", "sleep", "fail", "log"),
        results=("square",),
        run=_fake_run,
        check=_fake_check,
        defaults={"sleep": 0.0, "fail": False, "log": ""},
    ),
    replace=True,
)


def _executions(log: Path) -> list[int]:
    return sorted(int(line) for line in log.read_text().split()) if log.exists() else []


def _by_seed(path: Path) -> dict[int, dict[str, str]]:
    return {int(row["seed"]): row for row in read_sweep(path)}


def _check_counts(path: Path, jobs: list[dict]) -> None:
    """Every recorded count equals a direct call of count_pieces on the same network."""
    rows = read_sweep(path)
    assert len(rows) == len(jobs)
    recorded = {(r["kind"], r["widths"], int(r["seed"]), r["mode"]): r for r in rows}
    for job in jobs:
        row = recorded[(job["kind"], ",".join(map(str, job["widths"])), job["seed"], job["mode"])]
        net = qexpr.random_network(job["kind"], job["widths"], seed=job["seed"])
        expected = qexpr.count_pieces(net, mode=job["mode"])
        assert row["status"] == "done", row
        assert int(row["pieces"]) == expected.pieces
        assert int(row["activation_regions"]) == expected.activation_regions
        assert int(row["degree"]) == expected.degree
        assert row["engine"] == expected.mode
        assert int(row["pieces"]) <= int(row["bound_pieces"])  # measured vs bound


COUNT_JOBS = job_grid(
    kind=["quadratic", "relu", "square"], widths=[(1, 3, 3, 1)], seed=range(4), mode=["exact"]
) + job_grid(kind=["compact", "relu"], widths=[(1, 5, 5, 1)], seed=range(3), mode=["float"])


def test_parallel_sweep_matches_direct_calls_and_csv_columns(tmp_path):
    out = tmp_path / "counts.csv"
    summary = run_sweep("count", COUNT_JOBS, out, workers=2)
    assert (summary.done, summary.error, summary.timeout, summary.skipped) == (
        len(COUNT_JOBS),
        0,
        0,
        0,
    )
    with out.open(newline="") as stream:
        header = next(csv.reader(stream))
    assert header == [
        "key",
        "job",
        "kind",
        "widths",
        "seed",
        "mode",
        "pieces",
        "activation_regions",
        "degree",
        "engine",
        "unresolved",
        "bound_pieces",
        "status",
        "seconds",
        "error",
    ]
    _check_counts(out, COUNT_JOBS)
    rows = read_sweep(out)
    assert len({row["key"] for row in rows}) == len(rows)
    assert all(float(row["seconds"]) >= 0 and row["error"] == "" for row in rows)


def test_resume_skips_done_jobs_and_repairs_a_torn_row(tmp_path):
    out, log = tmp_path / "fake.csv", tmp_path / "log"
    jobs = [{"seed": s, "log": str(log)} for s in range(8)]
    first = run_sweep("fake", jobs[:4], out, workers=2)
    assert (first.done, first.skipped) == (4, 0)
    with out.open("a") as stream:  # a crash in the middle of writing a row
        stream.write("deadbeef,fake,99,0.0")
    second = run_sweep("fake", jobs, out, workers=1)
    assert (second.done, second.skipped) == (4, 4)
    assert _executions(log) == list(range(8))  # each job ran exactly once
    rows = _by_seed(out)
    assert sorted(rows) == list(range(8))
    assert all(int(row["square"]) == seed**2 for seed, row in rows.items())
    assert len(read_sweep(out)) == 8
    again = run_sweep("fake", jobs, out)
    assert (again.done, again.skipped) == (0, 8)


def test_errors_and_timeouts_are_recorded_and_the_rest_finishes(tmp_path):
    out, log = tmp_path / "fake.csv", tmp_path / "log"
    jobs = [{"seed": s, "log": str(log)} for s in range(6)]
    jobs[1]["sleep"] = 60.0
    jobs[2]["fail"] = True
    start = time.perf_counter()
    summary = run_sweep("fake", jobs, out, workers=2, timeout=1.5)
    assert time.perf_counter() - start < 30
    assert (summary.done, summary.error, summary.timeout) == (4, 1, 1)
    rows = _by_seed(out)
    assert rows[1]["status"] == "timeout" and rows[1]["sleep"] == "60.0"
    assert "time limit of 1.5 s" in rows[1]["error"] and rows[1]["square"] == ""
    assert rows[2]["status"] == "error"
    assert rows[2]["error"] == "ValueError: seed 2 failed on purpose"
    assert all(
        rows[s]["status"] == "done" and int(rows[s]["square"]) == s * s for s in (0, 3, 4, 5)
    )
    # retry=False keeps the failures; the default reruns them (still one row per job)
    kept = run_sweep("fake", jobs, out, retry=False)
    assert (kept.done, kept.skipped) == (0, 6)
    jobs[1]["sleep"] = 0.0  # a different job now: new key, the old timeout row stays
    rerun = run_sweep("fake", jobs, out)
    assert (rerun.done, rerun.error, rerun.skipped) == (1, 1, 4)
    keys = [row["key"] for row in read_sweep(out)]
    assert len(keys) == 7 and len(set(keys)) == 7  # the error row was replaced, not repeated
    assert _executions(log) == [0, 1, 1, 2, 2, 3, 4, 5]


def test_serial_timeout_kills_a_blocked_job(tmp_path):
    out = tmp_path / "fake.csv"
    jobs = [{"seed": 0, "sleep": 60.0}, {"seed": 1}]
    summary = run_sweep("fake", jobs, out, timeout=1.0)
    assert (summary.done, summary.timeout) == (1, 1)
    assert _by_seed(out)[1]["square"] == "1"


def test_bad_input_is_rejected_before_the_file_is_touched(tmp_path, monkeypatch):
    out = tmp_path / "x.csv"
    bad = [
        ("nope", [{"seed": 0}], {}, "job: expected one of"),
        ("count", [{"kind": "relu", "widths": (1, 2, 1), "colour": 1}], {}, "'colour'"),
        ("count", [{"kind": "relu"}], {}, "missing parameter 'widths'"),
        ("count", [{"kind": "relu", "widths": (2, 2, 1)}], {}, "one input"),
        ("fake", [{"seed": 0}, {"seed": 0}], {}, "jobs[1]: same parameters as jobs[0]"),
        ("fake", [{"seed": 0}], {"workers": 0}, "workers"),
        ("fake", [{"seed": 0}], {"timeout": 0}, "timeout"),
        ("fake", {"seed": 0}, {}, "jobs: expected a list"),
    ]
    for job, jobs, options, words in bad:
        with pytest.raises(qexpr.QexprError) as info:
            run_sweep(job, jobs, out, **options)
        assert words in str(info.value)
    monkeypatch.setattr(_sweep, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(qexpr.QexprValueError, match="scheduler: cannot connect"):
        run_sweep("fake", [{"seed": 0}], out, scheduler="tcp://127.0.0.1:9")
    assert not out.exists()
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(qexpr.QexprValueError, match="has columns a,b, not a sweep table"):
        run_sweep("fake", [{"seed": 0}], tmp_path / "other.csv")


def test_job_key_is_stable_and_depends_on_every_parameter():
    key = job_key(FAKE, {"seed": 1, "sleep": 0.0, "fail": False, "log": ""})
    assert key == job_key(FAKE, {"log": "", "fail": False, "sleep": 0.0, "seed": 1})
    for change in ({"seed": 2}, {"sleep": 1.0}, {"fail": True}, {"log": "x"}):
        params = {"seed": 1, "sleep": 0.0, "fail": False, "log": "", **change}
        assert job_key(FAKE, params) != key
    assert len(key) == 16 and int(key, 16) >= 0


def test_cli_sweep_json_summary_and_resume(tmp_path):
    out = tmp_path / "r.csv"
    grid = ["--kinds", "quadratic,relu", "--widths", "1,3,1", "--widths", "1,2,2,1"]
    args = ["sweep", "count", *grid, "--seeds", "0-2,5", "--mode", "float", "--out", str(out)]
    args.append("--json")
    result = run_cli(*args, "--workers", "2")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["done"] == 2 * 2 * 4 and summary["out"] == str(out)
    jobs = job_grid(
        kind=["quadratic", "relu"],
        widths=[(1, 3, 1), (1, 2, 2, 1)],
        seed=[0, 1, 2, 5],
        mode=["float"],
    )
    _check_counts(out, jobs)
    again = json.loads(run_cli(*args, "--no-progress").stdout)
    assert (again["done"], again["skipped"]) == (0, 16)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["count", "--seeds", "5-2"], ["--seeds", "5-2"]),
        (["count", "--seeds", "a"], ["--seeds"]),
        (["count", "--seeds", "0-3,2"], ["overlap"]),
        (["frobnicate"], ["job", "frobnicate"]),
        (["count", "--kinds", "quadratic,cubic"], ["kind", "cubic"]),
        (["count", "--widths", "1,x,1"], ["--widths"]),
        (["count", "--widths", "3,2,1"], ["widths", "one input"]),
        (["count", "--r", "2"], ["'r'"]),
        (["count", "--timeout", "0"], ["timeout"]),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path, args, words):
    result = run_cli("sweep", *args, "--out", str(tmp_path / "x.csv"))
    assert_one_line_error(result, *words)
    assert not (tmp_path / "x.csv").exists()


def test_dimension_jobs(tmp_path):
    out = tmp_path / "dims.csv"
    args = ["sweep", "dimension", "--kinds", "quadratic", "--widths", "2,2,1", "--seeds", "0-1"]
    result = run_cli(*args, "--out", str(out), "--json", "--no-progress")
    assert result.returncode == 0, result.stderr
    for row in read_sweep(out):
        # Without --r the kind's default applies: identity (r = 1) for quadratic neurons.
        assert row["r"] == "1"
        direct = qexpr.neurovariety_dimension("quadratic", (2, 2, 1), seed=int(row["seed"]))
        assert (int(row["dimension"]), int(row["expected"])) == (direct.dimension, direct.expected)


@pytest.mark.slow
def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    log = tmp_path / "log"
    fake = [{"seed": s, "log": str(log)} for s in range(4)] + [{"seed": 9, "sleep": 60.0}]
    with (
        distributed.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
    ):
        counts = run_sweep(
            "count", COUNT_JOBS, tmp_path / "c.csv", scheduler=cluster.scheduler_address
        )
        summary = run_sweep(
            "fake", fake, tmp_path / "f.csv", scheduler=cluster.scheduler_address, timeout=2.0
        )
    assert counts.done == len(COUNT_JOBS)
    _check_counts(tmp_path / "c.csv", COUNT_JOBS)
    assert (summary.done, summary.timeout) == (4, 1)
    assert _executions(log) == list(range(4))
    assert _by_seed(tmp_path / "f.csv")[9]["status"] == "timeout"
    assert os.path.getsize(tmp_path / "f.csv") > 0
