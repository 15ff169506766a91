"""Errors raised for bad user input: each carries every problem found, with file and line."""

from __future__ import annotations

from dataclasses import dataclass


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


class _ProblemsError(Exception):
    """Base for errors that list several problems."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("<input>", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class DataError(_ProblemsError):
    """The dataset (CSV files) is missing, unreadable or invalid."""


class ScenarioError(_ProblemsError):
    """A scenario or sweep file is invalid."""


class ModelError(Exception):
    """A model cannot be fitted as asked (series too short, unknown model, bad horizon)."""
