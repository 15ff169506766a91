"""Start-up time: ``compute-gap --help`` and ``import forecast`` against what they build on.

Four fresh interpreters, timed side by side in one run: ``import typer, rich`` (what the
command line needs), ``compute-gap --help``, ``import pandas`` and ``import forecast``. The
commands take turns round by round, so a busy machine slows all of them alike, and each is
scored by its best round. The targets (issue 13): ``--help`` within 3x ``import typer, rich``
and ``import forecast`` within 1.2x ``import pandas``. The best times and both ratios are in
the benchmark's ``extra_info``. With ``--benchmark-disable`` (``make test``) each command
runs once, as a check that it starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Rounds when timing (each command once per round; its best round counts).
ROUNDS = 7
HELP_TARGET = 3.0
IMPORT_TARGET = 1.2


def _help_command() -> list[str]:
    """The installed ``compute-gap`` script beside this interpreter, else ``-m forecast``."""
    script = Path(sys.executable).with_name("compute-gap")
    return (
        [str(script), "--help"] if script.exists() else [sys.executable, "-m", "forecast", "--help"]
    )


COMMANDS = {
    "import typer, rich": [sys.executable, "-c", "import typer, rich"],
    "compute-gap --help": _help_command(),
    "import pandas": [sys.executable, "-c", "import pandas"],
    "import forecast": [sys.executable, "-c", "import forecast"],
}


def _time(args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _round(times: dict[str, list[float]]) -> None:
    """Each command once, in turn."""
    for name, args in COMMANDS.items():
        times[name].append(_time(args))


def test_startup(benchmark) -> None:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    rounds = 1 if benchmark.disabled else ROUNDS
    benchmark.pedantic(_round, args=(times,), rounds=rounds, iterations=1)
    if benchmark.disabled:
        return
    best = {name: min(values) for name, values in times.items()}
    help_ratio = best["compute-gap --help"] / best["import typer, rich"]
    import_ratio = best["import forecast"] / best["import pandas"]
    benchmark.extra_info.update(
        best_seconds=best, help_vs_typer_rich=help_ratio, forecast_vs_pandas=import_ratio
    )
    print(f"\nstart-up, best of {rounds} (seconds):")
    for name, seconds in best.items():
        print(f"  {name:<20} {seconds:6.3f}")
    print(f"  --help / import typer, rich      = {help_ratio:.2f} (target <= {HELP_TARGET})")
    print(f"  import forecast / import pandas  = {import_ratio:.2f} (target <= {IMPORT_TARGET})")
    assert help_ratio <= HELP_TARGET, f"compute-gap --help takes {help_ratio:.2f}x import typer"
    assert import_ratio <= IMPORT_TARGET, f"import forecast takes {import_ratio:.2f}x pandas"
