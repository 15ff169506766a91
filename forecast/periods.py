"""Parse the period labels used in the dataset: ``YYYY``, ``YYYY-Qn`` and ``YYYY-Hn``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from forecast.errors import UsageError

_PERIOD_RE = re.compile(r"^(\d{4})(?:-([QH])([1-4]))?$")
_MONTHS = {"A": 12, "Q": 3, "H": 6}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar (or fiscal) period.

    Attributes
    ----------
    year : int
        Year label.
    freq : str
        ``"A"`` (year), ``"Q"`` (quarter) or ``"H"`` (half-year).
    index : int
        Quarter (1-4) or half (1-2); 1 for a year.
    """

    year: int
    freq: str
    index: int

    @property
    def label(self) -> str:
        """The canonical text label, e.g. ``2024-Q3``."""
        return str(self.year) if self.freq == "A" else f"{self.year}-{self.freq}{self.index}"

    @property
    def end_month(self) -> int:
        """Calendar month (1-12) in which the period ends."""
        return _MONTHS[self.freq] * self.index

    @property
    def decimal_year(self) -> float:
        """Mid-point of the period as a decimal year (2024-Q1 -> 2024.125)."""
        months = _MONTHS[self.freq]
        return self.year + (self.end_month - months / 2) / 12


def parse_period(text: object) -> Period:
    """Parse a period label.

    Parameters
    ----------
    text : object
        ``YYYY``, ``YYYY-Qn`` (n in 1..4) or ``YYYY-Hn`` (n in 1..2); surrounding spaces allowed.

    Returns
    -------
    Period

    Raises
    ------
    UsageError
        (a ``ValueError``) If the label is not one of the three forms or the year is outside
        1900..2100.
    """
    if not isinstance(text, str):
        raise UsageError(f"period must be text, got {type(text).__name__}")
    match = _PERIOD_RE.match(text.strip())
    if match is None:
        raise UsageError(f"unparseable period {text!r} (expected YYYY, YYYY-Qn or YYYY-Hn)")
    year = int(match.group(1))
    if not 1900 <= year <= 2100:
        raise UsageError(f"period {text!r} has a year outside 1900..2100")
    freq = match.group(2) or "A"
    index = int(match.group(3) or 1)
    if freq == "H" and index > 2:
        raise UsageError(f"unparseable period {text!r}: a half-year is H1 or H2")
    return Period(year, freq, index)
