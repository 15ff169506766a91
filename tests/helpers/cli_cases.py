"""The hostile command-line cases of issue #15, reconstructed, and how each one ends.

Every case runs ``compute-gap`` in a fresh directory (a child of the fork server of
``tests/helpers/forker.py``, on synthetic posterior draws) and is classified:

- ``clean``: bad input refused as documented (the exit code, and the message naming the
  file, field or argument);
- ``correct``: a valid request that succeeds, with its result checked;
- ``traceback``, ``wrong`` (another exit code or result), ``hang`` (over the time limit),
  ``memory`` (over 2 GB peak);
- ``data-loss``: a file of the user (one that is not part of a compute-gap result set)
  changed or disappeared;
- ``security``: a file appeared outside the case's directory, or a raw escape character
  reached the terminal.

``tests/cli/test_cli_cases.py`` asserts every case; ``python -m tests.helpers.cli_cases``
prints the counts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import shutil
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tests.helpers.paths import ROOT
from tests.helpers.sweeps import SMALL_TOML

DATA = ROOT / "data"
#: A case that runs longer is a hang; one that needs more memory is unbounded.
TIME_LIMIT = 60
MEMORY_LIMIT_MB = 2048
#: stderr of a refusal stays short however many problems there are.
MAX_MESSAGE_CHARS = 30_000
ESC = "\x1b"


@dataclass(frozen=True)
class Case:
    """One hostile command line.

    Attributes
    ----------
    id : str
    argv : list of str
    expect : int
        The documented exit code (0 success, 2 bad input, 1 system failure, 130 Ctrl-C).
    message : str
        Text stderr must hold (a refusal) or stdout must hold (a success).
    setup : callable, optional
        Prepares the case directory.
    before : list of list of str
        Commands run first (to leave an earlier result set).
    verify : callable, optional
        Checks the result of a success: ``verify(directory, outcome)``.
    options : dict
        For the fork server (``nobody``, ``fsize``, ``kill_at``...); ``quick`` is on unless
        set to False (real figures).
    consented : set of str
        User files the case may replace (``--overwrite``).
    """

    id: str
    argv: list[str]
    expect: int
    message: str = ""
    setup: Callable[[Path], None] | None = None
    before: list[list[str]] = field(default_factory=list)
    verify: Callable[[Path, object], None] | None = None
    options: dict = field(default_factory=dict)
    consented: frozenset[str] = frozenset()


# --- setups ------------------------------------------------------------------------------------


def write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    """Setup: a file with ``text``."""

    def setup(directory: Path) -> None:
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)

    return setup


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    """Setup: several in order."""

    def setup(directory: Path) -> None:
        for each in setups:
            each(directory)

    return setup


def data_copy(change: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """Setup: the shipped data in ``data/``, then ``change(data)``."""

    def setup(directory: Path) -> None:
        shutil.copytree(DATA, directory / "data", ignore=shutil.ignore_patterns("build"))
        if change is not None:
            change(directory / "data")

    return setup


def scenario(name: str, **fields: object) -> Callable[[Path], None]:
    """Setup: ``NAME.toml`` extending tighten (fields override), written as TOML."""
    values = {"name": name, "description": "hostile case", "extends": "tighten", **fields}
    lines = []
    tables = {k: v for k, v in values.items() if isinstance(v, dict)}
    for key, value in values.items():
        if key not in tables:
            lines.append(f"{key} = {toml_value(value)}")
    for table, entries in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in entries.items()]
    return write(f"{slugged(name)}.toml", "\n".join(lines) + "\n")


def toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string for our purposes
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def slugged(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)[:40] or "x"


def chain(depth: int, cycle: bool = False) -> Callable[[Path], None]:
    """Setup: ``s0.toml`` extends ``s1`` ... extends ``s{depth}`` (a library scenario)."""

    def setup(directory: Path) -> None:
        folder = directory / "chain"
        folder.mkdir()
        for i in range(depth):
            parent = f"s{i + 1}" if i + 1 < depth else ("s0" if cycle else "status_quo")
            text = f'name = "s{i}"\ndescription = "x"\nextends = "{parent}"\n'
            (folder / f"s{i}.toml").write_text(text)

    return setup


def clusters(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Setup: the shipped data with ``change(row)`` applied to China's counted clusters."""

    def mutate(data: Path) -> None:
        path = data / "epoch" / "gpu_clusters.csv"
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        for row in rows:
            if row["Country"] == "China" and row["Include in Standard Analysis"].lower() == "true":
                change(row)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    return data_copy(mutate)


def set_field(column: str, value: str) -> Callable[[dict], None]:
    return lambda row: row.__setitem__(column, value)


def extra_rows(rows: list[str]) -> Callable[[Path], None]:
    header = "series_id,period,value,low,high,quality,source_id,note\n"
    return data_copy(lambda d: (d / "extra_observations.csv").write_text(header + "".join(rows)))


def duplicates(n: int) -> Callable[[Path], None]:
    return extra_rows(["msft_capex_usd_bn,2020,1,,,reported,msft_10k,dup\n"] * n)


def big_file(rel: str, megabytes: int) -> Callable[[Path], None]:
    def mutate(data: Path) -> None:
        with (data / rel).open("a", encoding="utf-8") as handle:
            handle.write(("# padding\n" * 100_000) * (megabytes // 1 + 1))

    return data_copy(mutate)


def sweep_file(**changes: object) -> Callable[[Path], None]:
    """Setup: ``small.toml`` (the small sweep of the tests) with top-level fields changed."""
    text = SMALL_TOML
    for key, value in changes.items():
        text = f"{key} = {toml_value(value)}\n" + "\n".join(
            line for line in text.splitlines() if not line.startswith(f"{key} =")
        )
    return write("small.toml", text)


def foreign_out(*names: str) -> Callable[[Path], None]:
    return both(*(write(f"out/{name}", f"the user's {name}") for name in names))


def read_only(rel: str, mode: int) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.mkdir()
        path.chmod(mode)

    return setup


# --- checks of successes --------------------------------------------------------------------


def set_at(rel: str) -> Callable[[Path, object], None]:
    """Verify: ``rel`` holds an intact result set."""

    def verify(directory: Path, outcome: object) -> None:
        from forecast.io import read_set

        read_set(directory / rel)

    return verify


def finite_summary(directory: Path, outcome: object) -> None:
    """Every statistic of a continuous metric is finite (shares of binding limits and of
    censored lags have no quantiles; a lag whose every draw is censored has no statistics)."""
    from forecast.metrics import METRICS

    frame = pd.read_csv(directory / "out" / "summary.csv")
    assert frame["year"].max() == 2100
    censored = frame[frame["metric"] == "years_behind_censored"].set_index(["scenario", "year"])
    lag = frame["metric"] == "years_behind"
    all_censored = [censored["mean"].get((s, y), 0.0) == 1.0
                    for s, y in zip(frame["scenario"], frame["year"])]  # fmt: skip
    rows = frame["metric"].isin(METRICS) & ~(lag & pd.Series(all_censored, index=frame.index))
    numbers = frame.loc[rows, ["mean", "q05", "q50", "q95"]].to_numpy(dtype=float)
    assert not pd.isna(numbers).any() and (abs(numbers) < float("inf")).all()


def kept(rel: str) -> Callable[[Path, object], None]:
    def verify(directory: Path, outcome: object) -> None:
        assert (directory / rel).is_file(), f"{rel} was not kept"

    return verify


def no_figures_left(directory: Path, outcome: object) -> None:
    assert not (directory / "out" / "figures").exists()
    set_at("out")(directory, outcome)


def html_escaped(directory: Path, outcome: object) -> None:
    html = (directory / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html


def under_results(directory: Path, outcome: object) -> None:
    made = [p for p in (directory / "results").iterdir() if p.is_dir()]
    assert len(made) == 1 and made[0].name.startswith("sweep"), made
    set_at(f"results/{made[0].name}")(directory, outcome)


def fast(seconds: float) -> Callable[[Path, object], None]:
    def verify(directory: Path, outcome: object) -> None:
        assert outcome.seconds < seconds, f"took {outcome.seconds:.1f} s"

    return verify


# --- the cases -------------------------------------------------------------------------------

RUN = ["run", "status_quo", "tighten", "--draws", "20"]
FORECAST = ["forecast", "msft_capex_usd_bn", "--model", "naive"]
REPORT = ["report", "status_quo", "tighten", "--draws", "20", "--quiet"]
SWEEP = ["sweep", "small.toml", "--samples", "8", "--chunk-size", "8", "--workers", "1",
         "--draws", "20"]  # fmt: skip
SMALL = write("small.toml", SMALL_TOML)
QUICK = {"quick": True}
MARKUP = "mk[/bold]x [red]y"
MATH = r"$\undefined{x}$ and $"
REFUSE_WRITE = "refusing to write into"


def output_cases() -> list[Case]:
    """Data loss and output safety: existing targets, files, permissions, reruns."""
    return [
        Case("run-foreign-summary", [*RUN, "--out", "out"], 2, REFUSE_WRITE,
             foreign_out("summary.csv", "notes.txt")),
        Case("run-foreign-manifest", [*RUN, "--out", "out"], 2, REFUSE_WRITE,
             foreign_out("manifest.json")),
        Case("run-foreign-draws", [*RUN, "--out", "out"], 2, REFUSE_WRITE,
             foreign_out("draws.parquet")),
        Case("run-foreign-overwrite", [*RUN, "--out", "out", "--overwrite"], 0, "",
             foreign_out("summary.csv", "notes.txt"), verify=kept("out/notes.txt"),
             consented=frozenset({"out/summary.csv"})),
        Case("report-foreign-with-report-html", [*REPORT, "--out", "out"], 2, REFUSE_WRITE,
             foreign_out("report.html", "thesis.docx"), options=QUICK),
        Case("report-over-report-keeps-notes", [*REPORT, "--out", "out"], 0, "",
             before=[[*REPORT, "--out", "out"], ["@write", "out/notes.txt", "mine"]],
             verify=kept("out/notes.txt"), options=QUICK),
        Case("run-out-file", [*RUN, "--out", "f.txt"], 2, "not a directory",
             write("f.txt", "user file")),
        Case("run-out-file-overwrite", [*RUN, "--out", "f.txt", "--overwrite"], 2,
             "not a directory", write("f.txt", "user file")),
        Case("run-out-under-file", [*RUN, "--out", "f.txt/sub"], 2, "cannot create",
             write("f.txt", "user file")),
        Case("run-out-read-only", [*RUN, "--out", "ro/out"], 2, "cannot write",
             read_only("ro", 0o555), options={"nobody": True}),
        Case("run-out-root", [*RUN, "--out", "/"], 2, "working directory or contains it"),
        Case("run-out-dot", [*RUN, "--out", "."], 2, "working directory or contains it"),
        Case("run-out-empty", [*RUN, "--out", ""], 2, "working directory or contains it"),
        Case("run-out-parent", [*RUN, "--out", ".."], 2, "working directory or contains it"),
        Case("run-twice", [*RUN, "--out", "out"], 0, "", before=[[*RUN, "--out", "out"]],
             verify=set_at("out")),
        Case("run-over-edited-set", [*RUN, "--out", "out"], 2, "changed since",
             before=[[*RUN, "--out", "out"], ["@write", "out/summary.csv", "edited"]]),
        Case("run-over-edited-set-overwrite", [*RUN, "--out", "out", "--overwrite"], 0, "",
             before=[[*RUN, "--out", "out"], ["@write", "out/summary.csv", "edited"]],
             consented=frozenset({"out/summary.csv"}), verify=set_at("out")),
        Case("run-over-set-with-user-file", [*RUN, "--out", "out"], 0, "",
             before=[[*RUN, "--out", "out"], ["@write", "out/summary.csv.bak", "mine"]],
             verify=kept("out/summary.csv.bak")),
        Case("run-over-set-with-user-dir", [*RUN, "--out", "out"], 0, "",
             before=[[*RUN, "--out", "out"], ["@write", "out/mine/deep/a.txt", "mine"]],
             verify=kept("out/mine/deep/a.txt")),
        Case("forecast-csv-exists", [*FORECAST, "--csv", "f.csv"], 2,
             "exists; pass --overwrite", write("f.csv", "mine")),
        Case("forecast-csv-overwrite", [*FORECAST, "--csv", "f.csv", "--overwrite"], 0,
             "wrote f.csv", write("f.csv", "mine"), consented=frozenset({"f.csv"})),
        Case("forecast-csv-dir", [*FORECAST, "--csv", "d"], 2, "not a file", write("d/x", "x")),
        Case("forecast-csv-new", [*FORECAST, "--csv", "new/f.csv"], 0, "wrote new/f.csv"),
        Case("sweep-foreign", [*SWEEP, "--out", "out"], 2, REFUSE_WRITE,
             both(SMALL, foreign_out("results.txt")), options=QUICK),
        Case("sweep-twice", [*SWEEP, "--out", "out"], 2, "already holds a sweep", SMALL,
             before=[[*SWEEP, "--out", "out"]], options=QUICK),
        Case("sweep-twice-overwrite", [*SWEEP, "--out", "out", "--overwrite", "--seed", "3"],
             0, "", SMALL, before=[[*SWEEP, "--out", "out"]], verify=set_at("out"),
             options=QUICK),
        Case("sweep-resume-complete", [*SWEEP, "--out", "out", "--resume"], 0, "", SMALL,
             before=[[*SWEEP, "--out", "out"]], verify=set_at("out"), options=QUICK),
        Case("run-out-symlink", [*RUN, "--out", "link"], 0, "",
             lambda d: ((d / "real").mkdir(), (d / "link").symlink_to("real")),
             verify=set_at("real")),
        Case("report-over-run-set", [*REPORT, "--out", "out"], 0, "",
             before=[[*RUN, "--out", "out"]], verify=set_at("out"), options=QUICK),
        Case("run-over-report-set", [*RUN, "--out", "out"], 0, "",
             before=[[*REPORT, "--out", "out"]], verify=no_figures_left, options=QUICK),
        Case("run-out-markup", [*RUN, "--out", "[bold]x[/]"], 0, "[bold]x[/]",
             verify=set_at("[bold]x[/]")),
        Case("run-out-escape", [*RUN, "--out", "a\x1b[31mb"], 0, "",
             verify=set_at("a\x1b[31mb")),
        Case("report-out-file", [*REPORT, "--out", "f"], 2, "not a directory", write("f", "x"),
             options=QUICK),
        Case("sweep-out-file", [*SWEEP, "--out", "f"], 2, "not a directory",
             both(SMALL, write("f", "x")), options=QUICK),
        Case("run-out-nested", [*RUN, "--out", "a/b/c"], 0, "", verify=set_at("a/b/c")),
    ]  # fmt: skip


def interrupt_cases() -> list[Case]:
    """Signals, two writers, a full disk: the previous set stays whole."""
    earlier = [[*RUN, "--out", "out", "--seed", "1"]]
    return [
        Case("run-sigint-mid-write", [*RUN, "--out", "out"], 130, "interrupted",
             before=earlier, options={"kill_at": 5, "signal": signal.SIGINT}),
        Case("run-sigint-early", [*RUN, "--out", "out"], 130, "interrupted",
             before=earlier, options={"kill_at": 1, "signal": signal.SIGINT}),
        Case("report-sigint", [*REPORT, "--out", "out"], 130, "interrupted",
             before=earlier, options={**QUICK, "kill_at": 12, "signal": signal.SIGINT}),
        Case("sweep-sigint", [*SWEEP, "--out", "out"], 130, "rerun with --resume", SMALL,
             options={**QUICK, "kill_at": 8, "signal": signal.SIGINT}),
        Case("sweep-resume-after-sigint", [*SWEEP, "--out", "out", "--resume"], 0, "", SMALL,
             before=[[*SWEEP, "--out", "out", "@kill_at=8"]], verify=set_at("out"),
             options=QUICK),
        Case("run-full-disk", [*RUN, "--out", "out"], 1, "File too large", before=earlier,
             options={"fsize": 1000}),
        Case("report-full-disk", [*REPORT, "--out", "out"], 1, "File too large",
             before=earlier, options={**QUICK, "fsize": 1000}),
    ]  # fmt: skip


def bound_cases() -> list[Case]:
    """Unbounded input: sizes, counts and numbers beyond their limits."""
    limits = "Input should be"
    return [
        Case("duplicates-2000", ["data", "--data-dir", "data"], 2, "and 1950 more",
             duplicates(2000), verify=None),
        Case("rows-230k", ["data", "--data-dir", "data"], 2, "rows of one CSV file",
             extra_rows(["msft_capex_usd_bn,2020,1,,,reported,msft_10k,\n"] * 230_000)),
        Case("data-file-40mb", ["data", "--data-dir", "data"], 2, "bytes of one CSV file",
             big_file("observations.csv", 40)),
        *(Case(f"run-horizon-{h}", [*RUN, "--horizon", str(h)], 2, limits)
          for h in (2500, 3000, 1999)),
        Case("run-horizon-2100", [*RUN, "--horizon", "2100", "--out", "out"], 0, "",
             verify=finite_summary),
        Case("forecast-horizon-1e6", ["forecast", "msft_capex_usd_bn", "--horizon", "1000000"],
             2, limits),
        Case("forecast-horizon-0", ["forecast", "msft_capex_usd_bn", "--horizon", "0"], 2,
             limits),
        Case("forecast-horizon-50", ["forecast", "msft_capex_usd_bn", "--horizon", "50",
             "--model", "naive"], 0, "2074"),
        *(Case(f"run-draws-{d}", [*RUN[:-2], "--draws", d], 2, "--draws")
          for d in ("100000000000", "1e11", "0", "20001")),
        Case("compare-draws-0", ["compare", "tighten", "status_quo", "--draws", "0"], 2,
             limits),
        Case("report-draws-0", [*REPORT[:-3], "--draws", "0"], 2, limits),
        *(Case(f"sweep-{option}-{value}", [*SWEEP, option, value], 2, option)
          for option, value in (("--samples", "0"), ("--samples", "1073741824"),
                                ("--chunk-size", "0"), ("--chunk-size", "1000000"),
                                ("--workers", "0"), ("--draws", "1e11"))),
        Case("sweep-samples-not-power-of-two", [*SWEEP, "--samples", "100"], 2, "power of two",
             SMALL),
        *(Case(f"{cmd[0]}-seed-{seed}", [*cmd, "--seed", seed], 2, "--seed")
          for cmd in (RUN, ["fit"], SWEEP) for seed in ("-1", "4294967296", "abc")),
        *(Case(f"until-{until}", [*RUN, "--until", until], 2, "--until")
          for until in ("99999", "-1")),
        Case("data-until-1800", ["data", "--until", "1800"], 2, "--until"),
        *(Case(f"origins-{origins}", ["backtest", "--origins", origins], 2, "origins")
          for origins in ("1:100000000", "2019:2018", "abc")),
        Case("backtest-horizon-1000", ["backtest", "--horizon", "1000"], 2, limits),
        *(Case(f"fit-{option}-{value}", ["fit", option, value], 2, option)
          for option, value in (("--draws", "1000000000"), ("--chains", "1000"),
                                ("--tune", "-1"))),
        Case("rationale-60mb", ["scenarios", "--show", "big.toml"], 2, "bytes of a scenario",
             write("big.toml", 'name = "big"\ndescription = "x"\nextends = "tighten"\n'
                   "[rationale]\nleakage = \"" + "x" * 60_000_000 + '"\n'),
             verify=fast(10)),
        Case("scenario-2mb", ["scenarios", "--show", "big.toml"], 2, "bytes of a scenario",
             write("big.toml", "# " + "x" * 2_000_000 + '\nname = "big"\n')),
        Case("rationale-19k-chars", ["scenarios", "--show", "s.toml"], 0, "enforcement",
             write("s.toml", 'name = "s"\ndescription = "x"\nextends = "tighten"\n'
                   "[rationale]\nenforcement = \"" + "word " * 3_800 + '"\n'),
             verify=fast(10)),
        Case("rationale-30k-chars", ["scenarios", "--show", "s.toml"], 2, "the limit is",
             write("s.toml", 'name = "s"\ndescription = "x"\nextends = "tighten"\n'
                   "[rationale]\nleakage = \"" + "x" * 30_000 + '"\n')),
        Case("extends-1200-deep", ["scenarios", "--show", "chain/s0.toml"], 2,
             "chain is longer than 32", chain(1200)),
        Case("extends-40-deep", ["scenarios", "--show", "chain/s0.toml"], 2,
             "chain is longer than 32", chain(40)),
        Case("extends-20-deep", ["scenarios", "--show", "chain/s0.toml"], 0, "s0", chain(20)),
        Case("extends-cycle", ["scenarios", "--show", "chain/s0.toml"], 2, "cycle",
             chain(5, cycle=True)),
        Case("sweep-file-2mb", [*SWEEP], 2, "bytes of a scenario",
             write("small.toml", SMALL_TOML + "#" + "x" * 2_000_000 + "\n")),
        Case("sweep-horizon-99999", [*SWEEP], 2, "field 'horizon'", sweep_file(horizon=99999)),
        Case("scenario-5000-unknown-levers", ["scenarios", "--show", "s.toml"], 2,
             "more problem(s)", write("s.toml", 'name = "s"\ndescription = "x"\nstart = 2026\n'
                                      "[levers]\n" + "".join(f"l{i} = 1\n" for i in range(5000)))),
        Case("data-500-bad-rows", ["data", "--data-dir", "data"], 2, "more problem(s)",
             extra_rows([f"msft_capex_usd_bn,{1000 + i},x,,,reported,msft_10k,\n"
                         for i in range(500)])),
        Case("scenario-name-500", ["scenarios", "--show", "s.toml"], 2, "characters",
             write("s.toml", f'name = "{"n" * 500}"\ndescription = "x"\nstart = 2026\n')),
        Case("run-150-scenarios", ["run", *["status_quo"] * 150, "--draws", "20"], 2,
             "number of scenarios"),
        Case("run-too-large", ["run", "--draws", "20000", "--horizon", "2100"], 2,
             "above the limit"),
    ]  # fmt: skip


def injection_cases() -> list[Case]:
    """User text as markup, mathtext, escape sequences, paths."""
    markup = scenario(MARKUP)
    math_name = scenario(MATH)
    return [
        Case("markup-run", ["run", f"{slugged(MARKUP)}.toml", "--draws", "20", "--out", "out",
             "--json"], 0, json.dumps(MARKUP), markup, verify=set_at("out")),
        Case("markup-report", ["report", f"{slugged(MARKUP)}.toml", "--draws", "20", "--quiet",
             "--out", "out"], 0, "", markup, verify=set_at("out"), options=QUICK),
        Case("markup-list", ["scenarios", "--scenario-dir", "."], 0, MARKUP, markup),
        Case("markup-show", ["scenarios", "--show", f"{slugged(MARKUP)}.toml"], 0, MARKUP,
             markup),
        Case("markup-compare", ["compare", f"{slugged(MARKUP)}.toml", "status_quo", "--draws",
             "20", "--year", "2030"], 0, MARKUP, markup),
        Case("mathtext-report", ["report", f"{slugged(MATH)}.toml", "--draws", "20", "--quiet",
             "--out", "out"], 0, "", math_name, verify=set_at("out"), options={"quick": False}),
        Case("mathtext-description-report", ["report", "m.toml", "--draws", "20", "--quiet",
             "--out", "out"], 0, "", write("m.toml", 'name = "m"\nextends = "tighten"\n'
                                           'description = "$\\\\frac{1}$ and $x_{$"\n'),
             verify=set_at("out"), options=QUICK),
        Case("ansi-name", ["scenarios", "--show", "a.toml"], 2, "control characters",
             write("a.toml", 'name = "a\\u001b[31mred"\ndescription = "x"\nstart = 2026\n')),
        Case("ansi-description", ["scenarios", "--show", "a.toml"], 0, "\\x1b[31m",
             write("a.toml", 'name = "a"\ndescription = "x\\u001b[31mred"\nstart = 2026\n')),
        Case("ansi-rationale", ["scenarios", "--show", "a.toml"], 0, "\\x1b",
             write("a.toml", 'name = "a"\ndescription = "x"\nextends = "tighten"\n'
                   '[rationale]\nenforcement = "r \\u001b]8;;http://x\\u0007link"\n')),
        Case("ansi-data-note", ["data", "--data-dir", "data"], 0, "series",
             extra_rows(["msft_capex_usd_bn,2031,1,,,reported,msft_10k,\x1b[2J\n"])),
        Case("ansi-data-bad-cell", ["data", "--data-dir", "data"], 2, "\\x1b",
             extra_rows(["msft_capex_usd_bn,2031,\x1b[2Jx,,,reported,msft_10k,\n"])),
        Case("ansi-series-id", ["forecast", "x\x1b[31m"], 2, "unknown series id"),
        Case("markup-series-id", ["forecast", "x[/bold]"], 2, "x[/bold]"),
        *(Case(f"sweep-name-{i}", ["sweep", "small.toml", "--samples", "8", "--chunk-size", "8",
                                   "--workers", "1", "--draws", "20"], 0, "", sweep_file(name=n),
               verify=under_results, options=QUICK)
          for i, n in enumerate(["../../evil", "/etc/passwd", ".."])),
        Case("html-description-report", ["report", "h.toml", "--draws", "20", "--quiet",
             "--out", "out"], 0, "", write("h.toml", 'name = "h"\nextends = "tighten"\n'
                                           'description = "<script>alert(1)</script>"\n'),
             verify=html_escaped, options=QUICK),
        Case("bidi-name", ["scenarios", "--show", "b.toml"], 2, "control characters",
             write("b.toml", 'name = "a\\u202eb"\ndescription = "x"\nstart = 2026\n')),
        Case("markup-scenario-path", ["run", "[bold]x.toml"], 2, "[bold]x.toml"),
        Case("markup-data-dir", ["data", "--data-dir", "[red]nowhere[/]"], 2, "[red]nowhere[/]"),
        Case("dollar-name-report", ["report", "d.toml", "--draws", "20", "--quiet", "--out",
             "out"], 0, "", write("d.toml", 'name = "$"\ndescription = "$$"\n'
                                  'extends = "tighten"\n'), verify=set_at("out"),
             options=QUICK),
        Case("underscore-name-report", ["report", "u.toml", "--draws", "20", "--quiet", "--out",
             "out"], 0, "", write("u.toml", 'name = "_u"\ndescription = "x"\n'
                                  'extends = "tighten"\n'), verify=set_at("out"),
             options=QUICK),
        Case("nul-name", ["scenarios", "--show", "z.toml"], 2, "control characters",
             write("z.toml", 'name = "a\\u0000b"\ndescription = "x"\nstart = 2026\n')),
        Case("extends-traversal", ["scenarios", "--show", "t.toml"], 2, "no scenario named",
             write("t.toml", 'name = "t"\ndescription = "x"\nextends = "../../../etc/x"\n')),
        Case("sweep-base-traversal", [*SWEEP], 2, "field 'base'",
             sweep_file(base="../../../etc/passwd.toml")),
    ]  # fmt: skip


def cache_cases() -> list[Case]:
    """The fit cache directory, checked before any work."""
    file = write("cachefile", "not a directory")
    return [
        Case("run-cache-dir-file", [*RUN, "--cache-dir", "cachefile"], 2, "cache directory",
             file),
        Case("fit-cache-dir-file", ["fit", "--cache-dir", "cachefile"], 2, "cache directory",
             file, options={"stuck": True, "timeout": 30}),
        Case("report-cache-dir-file", [*REPORT, "--cache-dir", "cachefile"], 2,
             "cache directory", file, options=QUICK),
        Case("sweep-cache-dir-file", [*SWEEP, "--cache-dir", "cachefile"], 2,
             "cache directory", both(SMALL, file), options=QUICK),
        Case("fit-cache-dir-read-only", ["fit", "--cache-dir", "ro/cache"], 2,
             "cache directory", read_only("ro", 0o555),
             options={"stuck": True, "nobody": True, "timeout": 30}),
        Case("fit-sampler-bogus", ["fit", "--sampler", "bogus"], 2, "unknown sampler",
             options={"stuck": True, "timeout": 30}),
    ]  # fmt: skip


def validation_cases() -> list[Case]:
    """Every file through the same checks: clusters, directories, values."""
    return [
        Case("clusters-inf", ["data", "--data-dir", "data"], 2, "'inf'",
             clusters(set_field("H100 equivalents", "inf"))),
        Case("clusters-text", ["data", "--data-dir", "data"], 2, "'lots'",
             clusters(set_field("H100 equivalents", "lots"))),
        Case("clusters-missing", ["data", "--data-dir", "data"], 2, "known H100 equivalents",
             clusters(set_field("H100 equivalents", ""))),
        Case("clusters-negative", ["data", "--data-dir", "data"], 2, "'-5'",
             clusters(set_field("H100 equivalents", "-5"))),
        Case("clusters-bad-date", ["data", "--data-dir", "data"], 2, "must be a date",
             clusters(set_field("First Operational Date", "2023-13-45"))),
        Case("clusters-bad-status", ["data", "--data-dir", "data"], 2, "Status",
             clusters(set_field("Status", "Rumoured"))),
        Case("scenario-dir-missing", ["scenarios", "--scenario-dir", "/nonexistent"], 2,
             "does not exist"),
        Case("scenario-dir-file", ["scenarios", "--scenario-dir", "f"], 2, "does not exist",
             write("f", "x")),
        Case("data-dir-missing", ["data", "--data-dir", "nowhere"], 2, "does not exist"),
        Case("data-dir-file", ["data", "--data-dir", "f"], 2, "does not exist", write("f", "x")),
        Case("check-missing", ["data", "--check", "nowhere"], 2, "does not exist"),
        Case("check-file", ["data", "--check", "f"], 2, "does not exist", write("f", "x")),
        Case("check-binary-garbage", ["data", "--check", "data"], 2, "not valid UTF-8",
             data_copy(lambda d: (d / "events.csv").write_bytes(os.urandom(200) + b"\xff"))),
        Case("observation-inf", ["data", "--data-dir", "data"], 2, "is not a number",
             extra_rows(["msft_capex_usd_bn,2031,inf,,,reported,msft_10k,\n"])),
    ]  # fmt: skip


def mistake_cases() -> list[Case]:
    """Ordinary mistakes that used to end in a traceback."""
    partial = ".out.partial"
    return [
        Case("scenario-path-is-dir", ["run", "d.toml"], 2, "is not a file",
             lambda d: (d / "d.toml").mkdir()),
        Case("beta-nan", ["scenarios", "--show", "b.toml"], 2, "finite",
             scenario("b", levers={"leakage": {"dist": "beta", "a": float("nan"), "b": 2}})),
        Case("lognormal-inf", ["scenarios", "--show", "l.toml"], 2, "finite",
             scenario("l", levers={"hbm_cap": {"dist": "lognormal", "median": 1e5,
                                                "sigma": float("inf")}})),
        Case("resume-corrupt-chunk", [*SWEEP, "--out", "out", "--resume"], 0, "is damaged",
             SMALL, before=[[*SWEEP, "--out", "out", "@kill_at=30"],
                            ["@corrupt", f"{partial}/results/chunk=000000.parquet"]],
             verify=set_at("out"), options=QUICK),
        Case("resume-corrupt-settings", [*SWEEP, "--out", "out", "--resume"], 0, "", SMALL,
             before=[[*SWEEP, "--out", "out", "@kill_at=30"],
                     ["@corrupt", f"{partial}/sweep.json"]], verify=set_at("out"),
             options=QUICK),
        Case("resume-corrupt-manifest", [*SWEEP, "--out", "out", "--resume"], 2, REFUSE_WRITE,
             SMALL, before=[[*SWEEP, "--out", "out"], ["@corrupt", "out/manifest.json"]],
             options=QUICK),
        Case("resume-corrupt-set-chunk", [*SWEEP, "--out", "out", "--resume"], 2,
             "changed since", SMALL,
             before=[[*SWEEP, "--out", "out"],
                     ["@corrupt", "out/results/chunk=000001.parquet"]], options=QUICK),
        Case("compare-unknown-metric", ["compare", "tighten", "status_quo", "--metric", "gap"],
             2, "unknown metric"),
        Case("compare-year-3000", ["compare", "tighten", "status_quo", "--year", "3000",
             "--draws", "20"], 2, "year 3000"),
        Case("compare-same-twice", ["compare", "tighten", "tighten", "--draws", "20"], 2,
             "unique"),
        Case("run-unknown-scenario", ["run", "nope"], 2, "not found"),
        Case("run-empty-scenario-name", ["run", ""], 2, "a scenario is a name or a path"),
        Case("sweep-missing-file", ["sweep", "nope.toml"], 2, "not found"),
        Case("sweep-file-is-dir", ["sweep", "d.toml"], 2, "is not a file",
             lambda d: (d / "d.toml").mkdir()),
        Case("unreadable-scenario", ["scenarios", "--show", "s.toml"], 2, "cannot read",
             both(scenario("s"), lambda d: (d / "s.toml").chmod(0)), options={"nobody": True}),
        Case("unreadable-data-file", ["data", "--data-dir", "data"], 2, "cannot read",
             data_copy(lambda d: (d / "chips.csv").chmod(0)), options={"nobody": True}),
        Case("forecast-quarterly-series", ["forecast", "msft_capex_incl_leases_q_usd_bn"], 2,
             "annual"),
        Case("backtest-unknown-model", ["backtest", "--model", "prophet"], 2, "unknown model"),
        Case("scenario-bad-toml", ["scenarios", "--show", "x.toml"], 2, "invalid TOML",
             write("x.toml", "name = \n")),
        Case("scenario-binary", ["scenarios", "--show", "x.toml"], 2, "not valid UTF-8",
             write("x.toml", b"\xff\xfe\x00garbage")),
        Case("fit-until-1800", ["fit", "--until", "1800"], 2, "--until"),
        Case("data-check-ok", ["data", "--check", "data"], 0, "no problems found", data_copy()),
        Case("version", ["--version"], 0, "compute-gap"),
        Case("no-such-command", ["frobnicate"], 2, "No such command"),
    ]  # fmt: skip


def all_cases() -> list[Case]:
    """Every case, ids unique."""
    cases = [
        *output_cases(), *interrupt_cases(), *bound_cases(), *injection_cases(),
        *cache_cases(), *validation_cases(), *mistake_cases(),
    ]  # fmt: skip
    ids = Counter(c.id for c in cases)
    assert all(n == 1 for n in ids.values()), [i for i, n in ids.items() if n > 1]
    return cases


# --- running and classifying --------------------------------------------------------------


def snapshot(directory: Path) -> dict[str, str]:
    """SHA-256 of every regular file under ``directory`` (symbolic links not followed)."""
    found = {}
    for path in directory.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                found[path.relative_to(directory).as_posix()] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
            except PermissionError:
                found[path.relative_to(directory).as_posix()] = "unreadable"
    return found


def result_set_files(directory: Path) -> set[str]:
    """Files that belong to a compute-gap result set (listed in its manifest), and manifests."""
    owned = set()
    for manifest in directory.rglob("manifest.json"):
        try:
            content = json.loads(manifest.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError):
            continue
        if isinstance(content, dict) and content.get("package") == "compute-gap":
            base = manifest.parent.relative_to(directory).as_posix()
            prefix = "" if base == "." else f"{base}/"
            owned |= {f"{prefix}{rel}" for rel in content.get("files", {})}
            owned.add(f"{prefix}manifest.json")
    return owned


def corrupt(path: Path) -> None:
    """Flip the bytes in the middle of a file."""
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 16] = bytes(255 - b for b in raw[middle : middle + 16])
    path.write_bytes(bytes(raw))


def prepare(case: Case, directory: Path, forker) -> None:
    """Make the case directory: setup, then the commands that leave earlier results."""
    directory.mkdir(parents=True)
    if case.setup is not None:
        case.setup(directory)
    for command in case.before:
        if command[0] == "@corrupt":
            corrupt(directory / command[1])
            continue
        if command[0] == "@write":
            write(command[1], command[2])(directory)
            continue
        options = {**QUICK, **case.options, "timeout": TIME_LIMIT}
        options = {k: v for k, v in options.items() if k not in ("kill_at", "signal", "fsize")}
        argv = [a for a in command if not a.startswith("@")]
        for flag in (a for a in command if a.startswith("@kill_at=")):
            options.update(kill_at=int(flag.split("=")[1]), signal=signal.SIGINT)
        forker.run(argv, directory, **options)


def classify(case: Case, directory: Path, before: dict[str, str], owned: set[str], outcome) -> str:
    """The class of an outcome (see the module docstring); ``owned`` are the files of the
    result sets (and hidden temporaries) in the directory before the command ran."""
    text = outcome.out + outcome.err
    after = snapshot(directory)
    user = {rel for rel in before if rel not in owned and rel not in case.consented}
    if any(after.get(rel) != before[rel] for rel in user):
        return "data-loss"
    if ESC in text or set(os.listdir(directory.parent)) != {directory.name}:
        return "security"
    if "Traceback" in text or outcome.code == 99:
        return "traceback"
    if outcome.signal == signal.SIGALRM:
        return "hang"
    if outcome.max_rss_mb > MEMORY_LIMIT_MB:
        return "memory"
    where = text if case.expect == 0 else outcome.err
    if outcome.code != case.expect or case.message not in where:
        return "wrong"
    if case.expect != 0:
        return "clean" if len(outcome.err) < MAX_MESSAGE_CHARS else "wrong"
    try:
        if case.verify is not None:
            case.verify(directory, outcome)
    except Exception as err:  # any failed check of the result
        print(f"{case.id}: {err}")
        return "wrong"
    return "correct"


def run_all(forker, root: Path, cases: list[Case] | None = None) -> dict[str, tuple]:
    """Run every case (two at a time); return ``{id: (class, outcome)}``."""
    cases = cases or all_cases()
    prepared = {}
    for case in cases:
        directory = root / case.id / "case"
        prepare(case, directory, forker)
        before = snapshot(directory)
        owned = result_set_files(directory) | {rel for rel in before if rel.startswith(".")}
        prepared[case.id] = (case, directory, before, owned)
    results, running, pending = {}, [], list(prepared)
    while pending or running:
        while pending and len(running) < 2:
            case, directory, *_ = prepared[pending[0]]
            options = {"timeout": TIME_LIMIT, **QUICK, **case.options}
            running.append((pending.pop(0), forker.start(case.argv, directory, **options)))
        case_id, pid = running.pop(0)
        case, directory, before, owned = prepared[case_id]
        outcome = forker.wait(pid)
        results[case_id] = (classify(case, directory, before, owned, outcome), outcome)
    return results


def counts(results: dict[str, tuple]) -> Counter:
    """How many cases ended in each class."""
    return Counter(kind for kind, _ in results.values())


if __name__ == "__main__":
    import tempfile

    from tests.helpers.forker import Forker

    server = Forker()
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch).chmod(0o755)
        outcome = run_all(server, Path(scratch))
    server.close()
    for case_id, (kind, result) in outcome.items():
        if kind not in ("clean", "correct"):
            print(f"{kind:10} {case_id}: exit {result.code} signal {result.signal}")
            print("    " + (result.err or result.out)[-600:].replace("\n", "\n    "))
    total = counts(outcome)
    good = total["clean"] + total["correct"]
    print(dict(total), f"{good}/{len(outcome)} = {good / len(outcome):.1%} clean or correct")
