"""``qexpr count-pieces``: pieces, activation regions, breakpoints and degree of a network.

The command runs in named steps: check every option and output path (:func:`_check`),
build the jobs (:func:`_jobs`), then for each network load it, refuse work past the
budget (:mod:`qexpr.cli._budget`), count, render text or JSON, plot, and save the random
network last, once everything succeeded. A bad file among several is reported on stderr
and the others still run; the exit status is then 2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from qexpr._errors import QexprError, QexprValueError
from qexpr.cli._common import (
    JsonFlag,
    ProgressFlag,
    check_output_path,
    check_plot_path,
    examples,
    fail,
    one_line_errors,
    parse_widths,
    print_json,
    progress_bar,
    show_progress,
)
from qexpr.cli._sources import STDIN, STDIN_NAME

HELP = """Count the pieces, activation regions and degree of a one-input network.

Give one or more network files (qexpr-network/1 JSON; - reads one from standard
input; a .pt or .pth file is a qexpr train checkpoint, whose trained QMLP is counted
through qexpr.nn.to_qexpr_network, read with torch.load(weights_only=True)), or build
a random network with --kind/--widths/--seed. Breakpoints are floats, printed with
enough digits to tell them apart; one beyond float64's range is printed as an exact
string. The default mode (auto = hybrid) proves every count it prints ("certified");
--mode float is a fast estimate and says so. Work estimated past the memory or time
limit is refused up front, with advice. Measured (2-core CPU, 2026-11-30, CPU time):
one layer of 2,000 quadratic neurons, 109 s certified and 6 s with --mode float; of
10,000, 102 to 131 s and under 0.8 GB with --mode float (the certified count is refused
there).

""" + examples(
    "qexpr count-pieces net.json",
    "qexpr count-pieces a.json b.json --json",
    "qexpr count-pieces --kind quadratic --widths 1,4,4,1 --seed 0 --mode exact",
    "qexpr count-pieces net.json --domain -1 1 --mode float",
    "qexpr count-pieces net.json --json --exact-output",
    "qexpr count-pieces --kind relu --widths 1,8,8,1 --save net.json",
    "qexpr count-pieces net2d.json --line 0.5,-1 1,2 --domain -1 1",
    "qexpr count-pieces net.json --plot spline.png",
    "qexpr count-pieces two-outputs.json --plot out1.png --output 1",
    "cat net.json | qexpr count-pieces - --json",
    "qexpr count-pieces run.pt --json",
    "qexpr count-pieces net2d.json --random-lines 32 --seed 1 --json",
)

MODES = ("auto", "exact", "hybrid", "float")


@dataclass(frozen=True)
class _Options:
    """The checked options that apply to every network of one call."""

    mode: str
    domain: tuple[str, str] | None
    line: tuple[str, str] | None
    plot: Path | None
    as_json: bool
    random_lines: int | None
    radius: float
    seed: int
    output: int | None = None
    exact_output: bool = False
    progress: bool = False


@dataclass(frozen=True)
class _Job:
    """One network to count: a file to load, or a random network already built."""

    name: str
    record: dict[str, Any]
    file: str | None = None
    net: Any = None


def _check(files, kind, save, options: _Options) -> None:
    """Every check that needs no network, output paths included: fail before any work."""
    from qexpr.cli._budget import RANDOM_LINES_LIMIT

    if files and kind is not None:
        fail("give network files or --kind, not both")
    if not files and kind is None:
        fail("give a network file, or --kind with --widths for a random network")
    if save is not None and kind is None:
        fail("--save writes a random network: use it with --kind")
    if files and sum(str(path) == STDIN for path in files) > 1:
        fail("standard input (-) can be read once: give - once")
    if options.plot is not None and files and len(files) > 1:
        fail("--plot draws one network: give one file")
    if options.mode not in MODES:
        fail(f"--mode: expected auto, exact, hybrid or float, got {options.mode!r}")
    if options.exact_output and (options.mode == "float" or not options.as_json):
        fail("--exact-output: needs --json and a certified mode (auto, hybrid or exact)")
    if options.random_lines is not None:
        if not 1 <= options.random_lines <= RANDOM_LINES_LIMIT:
            fail(
                f"--random-lines: expected a positive integer up to {RANDOM_LINES_LIMIT}, "
                f"got {options.random_lines}"
            )
        if not 0 < options.radius < float("inf"):
            fail(f"--radius: expected a positive finite number, got {options.radius}")
        given = (options.line, options.domain, options.plot)
        for value, option in zip(given, ("--line", "--domain", "--plot")):
            if value is not None:
                fail(f"--random-lines draws its own chords: drop {option}")
    if options.output is not None and options.plot is None:
        fail("--output chooses the output --plot draws: use it with --plot")
    check_output_path(save, "--save")
    check_plot_path(options.plot)


def _jobs(files, kind, widths, seed, float_weights) -> list[_Job]:
    """One job per file, or the one random network (built here: its size is checked first)."""
    if kind is None:
        return [
            _Job(STDIN_NAME if str(path) == STDIN else str(path), {"file": str(path)}, str(path))
            for path in files
        ]
    from qexpr._random import random_network
    from qexpr.cli._budget import check_random_size

    sizes = parse_widths(widths)
    refusal = check_random_size(sizes)
    if refusal is not None:
        fail(refusal)
    net = random_network(kind, sizes, seed=seed, exact=not float_weights)
    record = {"kind": kind, "widths": list(sizes), "seed": seed}
    return [_Job(f"random {kind} {widths} seed {seed}", record, net=net)]


def _network(job: _Job, options: _Options):
    """The job's network, restricted to ``--line`` if given; refused past the budget."""
    from qexpr.cli._budget import check_count
    from qexpr.cli._sources import load_source
    from qexpr.spline._count import resolve_mode

    net = job.net if job.file is None else load_source(job.file)
    if options.random_lines is not None:
        return net
    if options.line is not None:
        from qexpr.spline._restrict import restrict_to_line

        try:
            net = restrict_to_line(net, options.line[0], options.line[1])
        except QexprError as exc:
            raise type(exc)(f"--line: {exc}") from None
    elif net.input_dim != 1:
        raise QexprValueError(
            f"{job.name}: expected a network with one input, got input_dim {net.input_dim} "
            "(use --line P V)"
        )
    refusal = check_count(net, resolve_mode(net, options.mode), objects=options.plot is not None)
    if refusal is not None:
        raise QexprValueError(f"{job.name}: {refusal}")
    return net


def _format_points(points: tuple[float | str, ...], exact: tuple = ()) -> list[str]:
    """Breakpoints for the text table, each different breakpoint printed differently.

    6 significant digits; where two different breakpoints would print alike, the shortest
    text that reads back as the float64 (``repr``); where they are the same float64 (exact
    mode: closer than float64 resolves), digits of the exact values (``exact``, the
    spline's breakpoints), as many as tell them apart. Zero is ``0``, never ``-0``; a
    string (a breakpoint float64 cannot hold) is printed as it is.
    """
    short = [p if isinstance(p, str) else f"{p + 0.0:.6g}" for p in points]
    alike = Counter(short)
    shown = [repr(p + 0.0) if alike[t] > 1 else t for t, p in zip(short, points)]
    groups: dict[str, list[int]] = {}
    for k, text in enumerate(shown):
        groups.setdefault(text, []).append(k)
    for group in (g for g in groups.values() if len(g) > 1):
        values = [exact[k] for k in group] if len(exact) == len(points) else []
        if all(hasattr(v, "interval") for v in values) and len(set(values)) == len(group):
            for k, digits in zip(group, _exact_digits(values)):
                shown[k] = digits
    return shown


def _exact_digits(values: list) -> list[str]:
    """Decimal texts that tell different (never equal) exact breakpoints apart.

    ``values`` are :class:`RealAlgebraic`; 20, 40, 80, ... significant digits, each text
    within one unit of its last digit (the isolating interval is refined below that first).
    """
    from decimal import Context
    from fractions import Fraction

    digits = 20
    while True:
        numbers = []
        for value in values:
            lo, hi = value.interval
            while hi - lo > abs(lo + hi) / 2 / Fraction(10) ** (digits + 1):
                value.refine()
                lo, hi = value.interval
            middle = (lo + hi) / 2
            numbers.append(Context(prec=digits).divide(middle.numerator, middle.denominator))
        if len(set(numbers)) == len(numbers):  # Decimal compares by value
            return [f"{number:.{digits}g}" for number in numbers]
        digits *= 2


def _table(rows: list[tuple[str, Any]]) -> str:
    return "\n".join(f"{key:<20}{value}" for key, value in rows)


def _density(net, job: _Job, options: _Options) -> None:
    """Hanin–Rolnick line statistic: breakpoints per unit length on seeded random chords."""
    from qexpr.spline._restrict import breakpoint_density

    with progress_bar(options.progress) as report:
        density = breakpoint_density(
            net,
            lines=options.random_lines,
            seed=options.seed,
            radius=options.radius,
            mode=options.mode,
            progress=report,
        )
    record = {
        **job.record,
        "random_lines": options.random_lines,
        "seed": options.seed,
        "radius": options.radius,
        "mean_density": density.mean,
        "std_density": density.std,
        "breakpoints": list(density.breakpoints),
        "chord_length": 2 * options.radius,
    }
    if options.as_json:
        print_json(record)
    else:
        typer.echo(
            _table([("network", job.name), *((k, v) for k, v in record.items() if k != "file")])
        )


def _count(net, job: _Job, options: _Options, several: bool) -> None:
    """Count one network, print it (text or JSON) and draw it if asked."""
    from qexpr._bounds import spline_bound
    from qexpr.spline._count import count_pieces

    with progress_bar(options.progress) as report:
        result = count_pieces(net, mode=options.mode, domain=options.domain, progress=report)
    bound = spline_bound(net)
    if options.plot is not None:
        _plot(result, job.name, options)
    if options.as_json:
        line = {} if options.line is None else {"line": list(options.line)}
        keys = {
            "bound_pieces": bound.pieces,
            "bound_degree": bound.degree,
            "tightness": result.pieces / bound.pieces,
        }
        record = result.to_dict(exact_output=options.exact_output)
        print_json({**job.record, **line, **record, **keys})
        return
    certified = "yes" if result.spline.certified else "no (float estimate)"
    rows = [
        ("network", job.name),
        ("mode", result.mode),
        ("certified", certified),
        ("exact cells", result.spline.exact_cells),
        ("pieces", result.pieces),
        ("activation regions", result.activation_regions),
        ("degree", result.degree),
        (
            "breakpoints",
            ", ".join(_format_points(result.breakpoints, result.spline.breakpoints)) or "none",
        ),
        ("bound pieces", bound.pieces),
        ("bound degree", bound.degree),
        ("tightness", f"{result.pieces / bound.pieces:.4g}"),
    ]
    if result.unresolved:
        rows.append(
            (
                "unresolved",
                f"{result.unresolved} (float64 too coarse; the default mode is certified)",
            )
        )
    typer.echo(_table(rows) + ("\n" if several else ""))


def _plot(result, title: str, options: _Options) -> None:
    """Draw the spline into ``--plot`` atomically (a half-written figure never appears)."""
    from qexpr._io import atomic_path
    from qexpr.studies._plots import plot_spline

    xlabel = "x" if options.line is None else "t"
    with atomic_path(options.plot) as temporary:
        plot_spline(
            result.spline, temporary, title=title, output=options.output or 0, xlabel=xlabel
        )


def _check_plotted_output(net, job: _Job, options: _Options) -> None:
    """``--plot`` draws one output: refuse, before counting, a choice the network lacks."""
    outputs = net.output_dim
    if options.plot is None or (options.output is None and outputs == 1):
        return
    if options.output is None:
        raise QexprValueError(
            f"{job.name}: --plot draws one output and the network has {outputs}: "
            f"choose one with --output K (0 to {outputs - 1})"
        )
    if options.output >= outputs:
        raise QexprValueError(
            f"--output: expected 0 to {outputs - 1} ({job.name} has {outputs} outputs), "
            f"got {options.output}"
        )


def _run(job: _Job, options: _Options, several: bool) -> None:
    net = _network(job, options)
    _check_plotted_output(net, job, options)
    if options.random_lines is not None:
        _density(net, job, options)
    else:
        _count(net, job, options, several)


@one_line_errors
def command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Network files; - reads standard input, .pt/.pth a train checkpoint.",
            show_default=False,
        ),
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Random network: quadratic, relu, square or compact.")
    ] = None,
    widths: Annotated[str, typer.Option(help="Random network widths n0,n1,...,nL.")] = "1,4,4,1",
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the random network and random lines.")
    ] = 0,
    float_weights: Annotated[
        bool,
        typer.Option("--float-weights", help="Random float64 weights instead of small rationals."),
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            help="auto (= hybrid: float cells, every decision certified, uncertain stretches "
            "re-solved exactly), exact (all rational) or float (fast estimate, not certified)."
        ),
    ] = "auto",
    domain: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Count on [A, B] instead of the whole line.", metavar="A B"),
    ] = None,
    as_json: JsonFlag = False,
    save: Annotated[
        Path | None,
        typer.Option(help="Write the random network to this file (after counting succeeds)."),
    ] = None,
    line: Annotated[
        tuple[str, str] | None,
        typer.Option(
            help="Count along the line x = P + t V (comma-separated exact numbers); "
            "--domain then applies to t.",
            metavar="P V",
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Draw the function, its pieces and breakpoints (.png, .pdf, .svg)."),
    ] = None,
    random_lines: Annotated[
        int | None,
        typer.Option(
            help="Instead of one count: breakpoints per unit length (mean, std) over N "
            "random chords of length 2 R through the cube [-R, R]^n (Hanin-Rolnick).",
            metavar="N",
        ),
    ] = None,
    radius: Annotated[float, typer.Option(help="R of --random-lines.", metavar="R")] = 1.0,
    output: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="The output --plot draws (0 first); needed when the network has several.",
            metavar="K",
        ),
    ] = None,
    exact_output: Annotated[
        bool,
        typer.Option(
            help="With --json: exact breakpoints ('p/q', or an integer polynomial and an "
            "isolating interval) and piece coefficients as strings."
        ),
    ] = False,
    progress: ProgressFlag = None,
) -> None:
    options = _Options(
        mode,
        domain,
        line,
        plot,
        as_json,
        random_lines,
        radius,
        seed,
        output,
        exact_output,
        show_progress(progress),
    )
    _check(files, kind, save, options)
    jobs = _jobs(files, kind, widths, seed, float_weights)
    if len(jobs) == 1:
        _run(jobs[0], options, several=False)
    else:
        failed = 0
        for job in jobs:
            try:
                _run(job, options, several=True)
            except QexprError as exc:
                message = str(exc)
                named = message if message.startswith(job.name) else f"{job.name}: {message}"
                typer.echo(f"qexpr: error: {named}", err=True)
                failed += 1
        if failed:
            raise typer.Exit(code=2)
    if save is not None:
        from qexpr._io import save_network

        save_network(jobs[0].net, save)


command.__doc__ = HELP
