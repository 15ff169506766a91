"""Input bounds, stated once: every number a user can type and every file a user can hand in.

Each :class:`Bound` is checked before any work starts: by the command line (as the option's
allowed range, so a bad value is a usage error with exit code 2) and by the Python API
(:meth:`Bound.check` raises :class:`forecast.InputError`). The README lists them
("Limits"); a test keeps that list in step with :data:`BOUNDS`.
"""

from __future__ import annotations

import itertools
import math
import numbers
import reprlib
from dataclasses import dataclass
from pathlib import Path

from forecast.errors import MAX_PROBLEMS_PER_FILE, InputError


@dataclass(frozen=True)
class Bound:
    """An inclusive range of whole numbers.

    Attributes
    ----------
    name : str
        The argument or field it applies to, as messages name it.
    low, high : int
        Smallest and largest allowed value.
    what : str
        What the number counts (for messages and the README).
    """

    name: str
    low: int
    high: int
    what: str

    def problem(self, value: object, label: str | None = None) -> str | None:
        """Why ``value`` is not allowed (None when it is)."""
        # numbers.Integral: int and numpy's integers (numpy registers them), not numpy itself,
        # which the command line does not load.
        whole = not isinstance(value, bool) and isinstance(value, numbers.Integral)
        if whole and self.low <= value <= self.high:
            return None
        shown = f"{value:,}" if whole else repr(value)
        return (
            f"{label or self.name} must be a whole number from {self.low:,} to {self.high:,} "
            f"({self.what}), got {shown}"
        )

    def check(self, value: object, label: str | None = None) -> int:
        """Return ``value`` as an int, or raise :class:`forecast.InputError` naming the bound."""
        message = self.problem(value, label)
        if message:
            raise InputError(message)
        return int(value)

    def check_optional(self, value: object, label: str | None = None) -> int | None:
        """Like :meth:`check`, letting None (the documented default) through."""
        return None if value is None else self.check(value, label)

    def option(self) -> dict[str, int]:
        """Keyword arguments of ``typer.Option`` that enforce the bound on the command line."""
        return {"min": self.low, "max": self.high}

    def check_total(self, label: str, **factors: int) -> int:
        """Check a product of sizes against :attr:`high`; return the product.

        Raises
        ------
        InputError
            Naming every factor, e.g. ``scenarios 10 x draws 20,000 x years 90``.
        """
        total = math.prod(int(v) for v in factors.values())
        if total > self.high:
            parts = " x ".join(f"{k} {v:,}" for k, v in factors.items())
            raise InputError(
                f"{label}: {parts} = {total:,} {self.what}, above the limit of {self.high:,}; "
                f"lower one of them"
            )
        return total


HORIZON = Bound("horizon", 2000, 2100, "the last projected year")
FORECAST_HORIZON = Bound("horizon", 1, 50, "years ahead of a baseline forecast or backtest")
UNTIL = Bound("until", 1990, 2100, "the data cut-off year")
YEAR = Bound("year", 1990, 2100, "a start, outcome or reported year")
DRAWS = Bound("draws", 1, 20_000, "posterior draws projected")
FIT_DRAWS = Bound("draws", 1, 20_000, "draws kept per chain by a fit")
TUNE = Bound("tune", 1, 20_000, "tuning steps per chain")
CHAINS = Bound("chains", 1, 16, "chains of a fit")
SEED = Bound("seed", 0, 2**32 - 1, "the one random seed")
SCENARIOS = Bound("scenarios", 1, 100, "scenarios in one run")
SAMPLES = Bound("samples", 1, 2**18, "base samples of a sweep")
CHUNK_SIZE = Bound("chunk_size", 1, 4096, "sweep samples per task")
WORKERS = Bound("workers", 1, 64, "local Dask workers")
ORIGINS = Bound("origins", 1, 200, "backtest origin years")
PROJECTION_CELLS = Bound("projection", 1, 5_000_000, "scenario-draw-years")
SWEEP_CHUNK_CELLS = Bound("sweep chunk", 1, 20_000_000, "sample-draw-outcomes per chunk")
EXTENDS_DEPTH = Bound("extends", 1, 32, "scenarios in one extends chain")
SCENARIO_FILE_BYTES = Bound("scenario file", 1, 1 << 20, "bytes of a scenario or sweep file")
DATA_FILE_BYTES = Bound("data file", 1, 32 << 20, "bytes of one CSV file")
DATA_ROWS = Bound("data rows", 0, 200_000, "rows of one CSV file")
NAME_CHARS = Bound("name", 1, 100, "characters of a scenario or sweep name")
TEXT_CHARS = Bound("text", 1, 20_000, "characters of a description or rationale")
PROBLEMS_PER_FILE = Bound(
    "messages", 1, MAX_PROBLEMS_PER_FILE, "problems listed per file, then a count"
)

#: Every bound, in the order the README lists them.
BOUNDS = (
    HORIZON, FORECAST_HORIZON, UNTIL, YEAR, DRAWS, FIT_DRAWS, TUNE, CHAINS, SEED, SCENARIOS,
    SAMPLES, CHUNK_SIZE, WORKERS, ORIGINS, PROJECTION_CELLS, SWEEP_CHUNK_CELLS, EXTENDS_DEPTH,
    SCENARIO_FILE_BYTES, DATA_FILE_BYTES, DATA_ROWS, NAME_CHARS, TEXT_CHARS, PROBLEMS_PER_FILE,
)  # fmt: skip


def file_size_problem(path: Path, bound: Bound) -> str | None:
    """Why the file at ``path`` is too large to read (None if it is not, or is missing)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # the reader reports a missing or unreadable file in its own words
    if size > bound.high:
        return f"file is {size:,} bytes; the limit is {bound.high:,} ({bound.what})"
    return None


def check_projection(*, horizon: object, draws: object, seed: object) -> None:
    """Check the arguments every projection takes (before any fitting or allocating).

    Raises
    ------
    InputError
        Naming the argument, its bounds and the value given.
    """
    HORIZON.check(horizon)
    DRAWS.check_optional(draws)
    SEED.check(seed)


def check_positive(value: object, label: str) -> int:
    """Return ``value`` if it is a whole number >= 1, else raise :class:`forecast.InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"{label} must be a whole number >= 1, got {reprlib.repr(value)}")
    return int(value)


#: Most quantile levels one call may ask for.
MAX_LEVELS = 99


def check_levels(levels: object, label: str = "levels") -> tuple[float, ...]:
    """Return quantile levels as a tuple of floats, or raise :class:`forecast.InputError`.

    ``levels`` must be a non-empty sequence of at most :data:`MAX_LEVELS` numbers, each
    strictly between 0 and 1, in increasing order (e.g. ``(0.05, 0.5, 0.95)``).
    """
    values: tuple | None = None
    if not isinstance(levels, str | bytes):
        try:
            values = tuple(levels)  # type: ignore[arg-type]
        except TypeError:
            values = None
    valid = (
        values is not None
        and 0 < len(values) <= MAX_LEVELS
        and all(isinstance(q, numbers.Real) and not isinstance(q, bool) for q in values)
        and all(0 < q < 1 for q in values)
        and all(a < b for a, b in itertools.pairwise(values))
    )
    if not valid:
        raise InputError(
            f"{label} must be 1 to {MAX_LEVELS} increasing probabilities strictly between 0 and 1 "
            f"(quantile levels), got {reprlib.repr(levels)}"
        )
    return tuple(float(q) for q in values)  # type: ignore[union-attr]
