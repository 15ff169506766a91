"""Gap metrics on arrays of stocks (names are the public contract, see DESIGN.md)."""

from __future__ import annotations

import numpy as np

from forecast._kernels import years_behind_rows

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
    us, cn = np.broadcast_arrays(np.asarray(us, dtype=float), np.asarray(cn, dtype=float))
    rows = years_behind_rows(
        np.ascontiguousarray(us).reshape(-1, us.shape[-1]),
        np.ascontiguousarray(cn).reshape(-1, us.shape[-1]),
        np.asarray(years, dtype=float),
    )
    return rows.reshape(us.shape)
