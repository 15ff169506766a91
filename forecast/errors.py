"""The error family: what a public call raises when it cannot do what was asked.

Every error the package raises on purpose derives from :class:`ComputeGapError` (the command
line turns those into a message and exit code 2; a caller of the Python API can catch that one
class). A public call raises one of its five kinds, never a bare ``TypeError``, ``ValueError``
or ``KeyError``:

- :class:`DataError`: the data files (CSV) are missing, unreadable or invalid; lists every
  problem with file and line.
- :class:`ScenarioError`: a scenario or sweep file (or dict) is invalid; lists every problem
  with file and field.
- :class:`FitError`: a model cannot be fitted to the data as asked: a series too short or not
  annual, values outside a transform's domain, an estimation that fails, a series the model
  does not measure.
- :class:`UsageError`: an argument has the wrong type or value (it names the argument, what it
  must be and what it got). Also a ``ValueError``.
- :class:`OutputError`: an output target cannot be written safely.

Two older names stay importable: :class:`ModelError`, the base of :class:`FitError` and
:class:`InputError` (so ``except ModelError`` catches what it caught before), and
:class:`InputError`, the :class:`UsageError` the forecasting calls and the bounds raise (also a
``ModelError``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

#: Problems listed per file, then a count (the bound ``forecast.bounds.PROBLEMS_PER_FILE``).
MAX_PROBLEMS_PER_FILE = 50


@dataclass(frozen=True)
class Problem:
    """One problem in one input file.

    Parameters
    ----------
    file : str
        File name (as the user would recognise it).
    line : int or None
        1-based line number in the file (the header is line 1), or None for file-level problems.
    message : str
        What is wrong, in plain words.
    """

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


def cap_problems(problems: list[Problem], per_file: int) -> list[Problem]:
    """The first ``per_file`` problems of each file, then one ``and N more`` line per file.

    Linear in the number of problems; the order of the kept problems is unchanged.
    """
    seen: Counter[str] = Counter()
    kept = []
    for problem in problems:
        seen[problem.file] += 1
        if seen[problem.file] <= per_file:
            kept.append(problem)
    more = [
        Problem(name, None, f"and {count - per_file} more problem(s) in this file")
        for name, count in seen.items()
        if count > per_file
    ]
    return kept + more


class ComputeGapError(Exception):
    """Base of every error compute-gap raises on purpose: bad data, scenarios or arguments, a
    model that cannot be fitted, an output target that cannot be written."""


class _ProblemsError(ComputeGapError):
    """Base for errors that list several problems (at most
    :data:`forecast.bounds.MAX_PROBLEMS_PER_FILE` per file, then a count of the rest)."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("<input>", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = cap_problems(list(problems), MAX_PROBLEMS_PER_FILE)
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class DataError(_ProblemsError):
    """The dataset (CSV files) is missing, unreadable or invalid."""


class ScenarioError(_ProblemsError):
    """A scenario or sweep file is invalid."""


class ModelError(ComputeGapError):
    """A model cannot be used as asked. Kept for compatibility: it is the base of
    :class:`FitError` and :class:`InputError`, and nothing raises it directly any more."""


class FitError(ModelError):
    """A model cannot be fitted to the data as asked: a series too short for it
    (:class:`forecast.TooShortError`) or not annual, values outside its transform's domain,
    an estimation that fails or gives a non-finite forecast, a series it does not measure."""


class UsageError(ComputeGapError, ValueError):
    """A public call got an argument of the wrong type or value; the message names the
    argument, what it must be and what it got."""


class InputError(UsageError, ModelError):
    """An argument outside its documented bounds (:mod:`forecast.bounds`) or choices (an
    unknown model name, a duplicate alias): a :class:`UsageError`, and a :class:`ModelError`
    as it was before :class:`UsageError` existed."""


class OutputError(ComputeGapError):
    """An output directory cannot be written safely: it holds files compute-gap did not write,
    it is a file, it is not writable, or another compute-gap process is writing it."""
