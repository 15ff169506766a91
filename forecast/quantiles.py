"""The quantile levels of every summary, defined once (a leaf: no imports).

Projections, sweeps, attributions, the model's tidy posterior tables and the baselines'
forecasts all report :data:`QUANTILES` in columns named by :func:`quantile_column`; figures
and headline tables draw the 90 % interval :data:`BAND` around the :data:`MEDIAN`.
"""

from __future__ import annotations

#: Levels of every summary: mean and these quantiles per scenario, year and metric.
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The median.
MEDIAN = 0.5
#: The 90 % interval: the outer levels of :data:`QUANTILES`.
BAND: tuple[float, float] = (QUANTILES[0], QUANTILES[-1])
#: The 50 % interval.
INNER_BAND: tuple[float, float] = (QUANTILES[1], QUANTILES[-2])


def quantile_column(q: float) -> str:
    """Column name of a quantile: 0.05 -> ``q05``."""
    return f"q{round(q * 100):02d}"


#: Column names of :data:`QUANTILES`: ``q05, q25, q50, q75, q95``.
QUANTILE_COLUMNS: tuple[str, ...] = tuple(quantile_column(q) for q in QUANTILES)
