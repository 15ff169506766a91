"""Gap metrics on arrays of stocks (names are the public contract, see DESIGN.md)."""

from __future__ import annotations

import numpy as np

#: Gap metrics and flows reported by the scenario engine, in this order.
METRICS = (
    "us_h100e", "cn_h100e", "ratio_us_cn", "cn_share", "years_behind",
    "us_add", "cn_add_licensed", "cn_add_leakage", "cn_add_domestic",
)  # fmt: skip


def years_behind(us: np.ndarray, cn: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Lag tau >= 0 such that China's stock at t equals the US stock at t - tau.

    The US path is made monotone with its running maximum (the first time the US reached a
    level), and the crossing is interpolated in log space between whole years. Where the US
    was already above China's level at the first year, tau is censored at ``t - years[0]``
    (a lower bound); where China is at or above the US level, tau is 0.

    Parameters
    ----------
    us, cn : numpy.ndarray
        Positive stocks with years on the last axis (any leading shape, same shape).
    years : numpy.ndarray
        Year of each position on the last axis (increasing).

    Returns
    -------
    numpy.ndarray
        Same shape as ``us``, in years.
    """
    log_us = np.maximum.accumulate(np.log(us), axis=-1)
    log_cn = np.log(cn)
    years = np.asarray(years, dtype=float)
    out = np.empty(np.broadcast_shapes(us.shape, cn.shape))
    for t in range(len(years)):
        target = log_cn[..., t : t + 1]
        below = (log_us[..., : t + 1] < target).sum(axis=-1)  # years the US was still below
        j = np.clip(below, 1, t if t > 0 else 1)
        lo = np.take_along_axis(log_us, (j - 1)[..., None], axis=-1)[..., 0]
        hi = np.take_along_axis(log_us, np.minimum(j, len(years) - 1)[..., None], axis=-1)[..., 0]
        span = np.where(hi > lo, hi - lo, 1.0)
        frac = np.clip((target[..., 0] - lo) / span, 0.0, 1.0)
        crossing = years[j - 1] + frac * (years[np.minimum(j, len(years) - 1)] - years[j - 1])
        tau = years[t] - crossing
        tau = np.where(below == 0, years[t] - years[0], tau)  # censored at the data start
        out[..., t] = np.where(below > t, 0.0, np.maximum(tau, 0.0))
    return out


def gap_metrics(
    us_stock: np.ndarray, cn_stock: np.ndarray, years: np.ndarray
) -> dict[str, np.ndarray]:
    """``ratio_us_cn``, ``cn_share`` and ``years_behind`` from the two stocks.

    Parameters
    ----------
    us_stock, cn_stock : numpy.ndarray
        Installed H100e with years on the last axis.
    years : numpy.ndarray
        Years of the last axis.
    """
    return {
        "ratio_us_cn": us_stock / cn_stock,
        "cn_share": cn_stock / (us_stock + cn_stock),
        "years_behind": years_behind(us_stock, cn_stock, years),
    }
