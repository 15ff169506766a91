"""Compiled inner loops of the scenario engine (numba): stock recursion and gap metrics.

One pass per (scenario, draw) row keeps the working set in cache instead of sweeping
(scenario, draw, year) arrays once per year and metric.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def row_years_behind(us: np.ndarray, cn: np.ndarray, years: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out[t]`` with the lag of China behind the US at each year of one row.

    See :func:`forecast.metrics.years_behind` for the definition.
    """
    n = us.shape[0]
    log_max = np.empty(n)
    running = -math.inf
    for t in range(n):
        running = max(running, math.log(us[t]))
        log_max[t] = running
        target = math.log(cn[t])
        if log_max[0] >= target:  # the US was there before the data start: censored
            out[t] = years[t] - years[0]
        elif log_max[t] < target:  # China at or above the US level
            out[t] = 0.0
        else:
            j = 1
            while log_max[j] < target:
                j += 1
            frac = (target - log_max[j - 1]) / (log_max[j] - log_max[j - 1])
            crossing = years[j - 1] + frac * (years[j] - years[j - 1])
            out[t] = max(years[t] - crossing, 0.0)


@numba.njit(cache=True)
def years_behind_rows(us: np.ndarray, cn: np.ndarray, years: np.ndarray) -> np.ndarray:
    """:func:`row_years_behind` over the rows of 2-d arrays (row, year)."""
    out = np.empty(us.shape)
    for i in range(us.shape[0]):
        row_years_behind(us[i], cn[i], years, out[i])
    return out


@numba.njit(cache=True)
def stocks_and_gap(
    flows: np.ndarray,
    hist: np.ndarray,
    frozen: np.ndarray,
    keep: np.ndarray,
    utilization: np.ndarray,
    years: np.ndarray,
    out: np.ndarray,
) -> None:
    """Roll the four stocks forward and write the gap metrics.

    Parameters
    ----------
    flows : (4, scenario, draw, year)
        Additions: US, China licensed, leakage, domestic.
    hist : (4, draw, year)
        Posterior stocks, used where ``frozen`` (and at the first year).
    frozen : (scenario, year) bool
        Years before a scenario's start that lie in the history.
    keep : (draw,)
        ``1 - retirement``.
    utilization : (scenario, draw, year)
        China's utilisation relative to the US.
    years : (year,) float
    out : (5, scenario, draw, year)
        Written: us_h100e, cn_h100e, ratio_us_cn, cn_share, years_behind.
    """
    n_scen, n_draw, n_year = flows.shape[1], flows.shape[2], flows.shape[3]
    stock = np.empty(4)
    for s in range(n_scen):
        for d in range(n_draw):
            for t in range(n_year):
                for c in range(4):
                    if t == 0 or frozen[s, t]:
                        stock[c] = hist[c, d, t]
                    else:
                        stock[c] = keep[d] * stock[c] + flows[c, s, d, t]
                us = stock[0]
                cn = (stock[1] + stock[2] + stock[3]) * utilization[s, d, t]
                out[0, s, d, t] = us
                out[1, s, d, t] = cn
                out[2, s, d, t] = us / cn
                out[3, s, d, t] = cn / (us + cn)
            row_years_behind(out[0, s, d], out[1, s, d], years, out[4, s, d])
