"""Long run of the adversarial networks of ``tests/test_spline_adversarial.py``.

For as many generated networks as fit in the time budget, compares the default mode
(hybrid, certified) with the exact engine (breakpoints, patterns, polynomials, degree) and
checks whether float mode is *honest* (``float_is_honest`` of the test file): equal to exact
on the number of pieces, the degree and the sequence of activation patterns, or
``unresolved > 0``. Prints the counts of networks, hybrid disagreements (must be 0), silent
float errors (the goal is 0) and flagged float results, and the total time of each mode
(the ratios are measured on the same networks in the same process).

Run: ``.venv/bin/python benchmarks/adversarial.py [seconds] [first batch]`` (default 600
and 0; batch k draws its networks with hypothesis seed k, so runs from different first
batches see different networks). On a shared machine, ``OPENBLAS_NUM_THREADS=1`` keeps
BLAS threads from contending (several times faster on these tiny networks).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_spline_adversarial import _same_spline, adversarial_networks, float_is_honest

import qexpr

BATCH = 500


def main(budget: float, first: int = 0) -> None:
    tally = dict(networks=0, hybrid_wrong=0, float_silent=0, float_flagged=0)
    seconds = dict(exact=0.0, hybrid=0.0, float=0.0)

    def timed(mode: str, net: qexpr.Network) -> qexpr.Spline:
        start = time.perf_counter()
        form = qexpr.spline_form(net, mode=mode)
        seconds[mode] += time.perf_counter() - start
        return form

    def one(net: qexpr.Network) -> None:
        exact, auto, fast = (timed(mode, net) for mode in ("exact", "hybrid", "float"))
        tally["networks"] += 1
        tally["hybrid_wrong"] += not _same_spline(auto, exact)
        tally["float_flagged"] += fast.unresolved > 0
        tally["float_silent"] += not float_is_honest(fast, exact)

    end = time.monotonic() + budget
    batch = first
    while time.monotonic() < end:
        run = settings(
            max_examples=BATCH,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )(seed(batch)(given(adversarial_networks())(one)))
        run()
        batch += 1
        print(tally, {k: round(v, 1) for k, v in seconds.items()}, flush=True)
    ratio = seconds["hybrid"] / seconds["exact"]
    print(
        f"networks {tally['networks']}, hybrid != exact: {tally['hybrid_wrong']}, "
        f"float silently wrong: {tally['float_silent']}, float flagged: "
        f"{tally['float_flagged']}; time hybrid/exact {ratio:.2f}, "
        f"float/exact {seconds['float'] / seconds['exact']:.2f}"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(float(args[0]) if args else 600.0, int(args[1]) if len(args) > 1 else 0)
