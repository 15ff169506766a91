"""Errors raised for bad user input: each carries every problem found, with file and line.

Every error the package raises on purpose derives from :class:`ComputeGapError`: the command
line turns those into a message and exit code 2, and a caller of the Python API can catch
that one class.
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
    """Base of every error compute-gap raises for bad input or an unusable output target."""


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
    """A model cannot be fitted as asked (series too short, unknown model, bad horizon)."""


class InputError(ModelError, ValueError):
    """An argument is outside its documented bounds (see :mod:`forecast.bounds`)."""


class OutputError(ComputeGapError):
    """An output directory cannot be written safely: it holds files compute-gap did not write,
    it is a file, it is not writable, or another compute-gap process is writing it."""
