"""Property test over command lines: whatever a user types ends in exit 0, 1 or 2 with a
message, never in a traceback, and writes nothing outside the working directory.

The commands run in this process on synthetic posterior draws (no PyMC sampling), with the
report's figures and backtest and the sweep's Dask cluster replaced by cheap stand-ins.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecast
import forecast.cli.models_cmd
import forecast.data
import forecast.model
import forecast.runner
import forecast.sweeps.run
from forecast.cli import main
from tests.helpers import forker
from tests.helpers.sweeps import SMALL_TOML
from tests.helpers.synthetic import synthetic_fit

REPORT = importlib.import_module("forecast.report")
SHIPPED = forecast.load_dataset()

numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["0", "-1", "1", "8", "20", "2030", "2100", "2101", "4294967296", "1e11",
                     "nan", "inf", "-0", "0x10", "1_000", " 5"]),
)  # fmt: skip
words = st.one_of(
    st.text(st.sampled_from("ab_-.[]$\\\x1b\u202e 0é"), max_size=12),
    st.sampled_from(["status_quo", "tighten", "small.toml", "ratio_us_cn", "msft_capex_usd_bn",
                     "sobol", "lhs", "naive", "[bold]x[/]", "$\\x$", ""]),
)  # fmt: skip
#: Paths stay inside the working directory (no "..", no absolute path): a user may write
#: where they like, the test must not.
paths = st.one_of(
    st.text(st.sampled_from("ab_-.[]$\x1b 0/"), max_size=10).filter(
        lambda p: ".." not in p and not p.startswith("/")
    ),
    st.sampled_from(["", ".", "d", "f.txt", "out", "out/x", "f.txt/x", "small.toml"]),
)  # fmt: skip
PATH_OPTIONS = {"--out", "--csv", "--cache-dir", "--check", "--data-dir", "--scenario-dir"}
OPTIONS = {
    "data": ["--until", "--check", "--data-dir"],
    "scenarios": ["--show", "--scenario-dir"],
    "run": ["--horizon", "--seed", "--draws", "--out", "--until", "--cache-dir", "--overwrite",
            "--json"],
    "compare": ["--metric", "--year", "--horizon", "--seed", "--draws"],
    "report": ["--out", "--horizon", "--seed", "--draws", "--overwrite", "--quiet"],
    "forecast": ["--horizon", "--until", "--seed", "--csv", "--overwrite", "--fallback"],
    "sweep": ["--samples", "--method", "--draws", "--workers", "--out", "--resume",
              "--chunk-size", "--seed", "--overwrite"],
}  # fmt: skip
FLAGS = {"--overwrite", "--json", "--quiet", "--resume", "--fallback"}
#: Arguments every command gets, so that a valid command line stays cheap.
CHEAP = {
    "run": ["status_quo", "--draws", "10"],
    "compare": ["status_quo", "tighten", "--draws", "10"],
    "report": ["status_quo", "--draws", "10", "--quiet"],
    "forecast": ["--model", "naive"],
    "sweep": ["small.toml", "--samples", "8", "--chunk-size", "8", "--draws", "10"],
}


@st.composite
def command_lines(draw) -> list[str]:
    """A command, its cheap defaults, then random options (values from numbers or words)."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    args = [command]
    if command in ("forecast", "compare"):
        args.append(draw(words))
    args += CHEAP.get(command, [])
    for option in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=4)):
        args.append(option)
        if option in PATH_OPTIONS:
            args.append(draw(paths))
        elif option not in FLAGS:
            args.append(draw(st.one_of(numbers, words)))
    return args


@contextlib.contextmanager
def stand_ins() -> None:
    """Synthetic fit, the shipped data loaded once, cheap figures, no backtest, no Dask."""
    patch = pytest.MonkeyPatch()
    load = forecast.data.load_dataset

    def cached(data_dir=None, until=None):
        return SHIPPED if data_dir is None and until is None else load(data_dir, until=until)

    patch.setattr(forecast.model, "fit", synthetic_fit)
    for module in (forecast.data, forecast.runner, forecast.cli.models_cmd):
        patch.setattr(module, "load_dataset", cached)
    patch.setattr(REPORT, "quick_backtest", lambda dataset, seed=0: (None, ""))
    patch.setattr(REPORT, "_write_figures", forker._stub_figures)
    patch.setattr(forecast.sweeps.run, "DaskEvaluator", forker.in_process)
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def sandbox():
    """A directory to run in (with a file, a directory and the small sweep), and the stand-ins."""
    with tempfile.TemporaryDirectory() as root, stand_ins():
        home = Path(root) / "cwd"
        home.mkdir()
        previous = os.getcwd()
        os.chdir(home)
        try:
            yield home
        finally:
            os.chdir(previous)


def reset(home: Path) -> None:
    """Empty the working directory but for the fixtures every example finds."""
    for entry in home.iterdir():
        forecast.io.remove(entry)
    (home / "f.txt").write_text("a file of the user")
    (home / "d").mkdir()
    (home / "small.toml").write_text(SMALL_TOML)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv=command_lines())
def test_any_command_line_ends_in_a_documented_exit(sandbox, argv) -> None:
    reset(sandbox)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue() + err.getvalue()
    assert code in (0, 1, 2), (argv, code, text)
    assert "Traceback" not in text and "\x1b" not in text, (argv, text)
    if "--overwrite" not in argv:
        assert (sandbox / "f.txt").read_text() == "a file of the user", argv
    assert sorted(p.name for p in sandbox.parent.iterdir()) == ["cwd"], argv
