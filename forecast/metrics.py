"""Gap metrics on arrays of stocks (names are the public contract, see DESIGN.md)."""

from __future__ import annotations

import numpy as np

from forecast._kernels import years_behind_rows
from forecast.core import CN_FOREIGN_LIMITS, CN_LIMITS, US_LIMITS

#: Gap metrics, flows and the limits' state reported by the scenario engine, in this order.
METRICS = (
    "us_h100e", "cn_h100e", "ratio_us_cn", "cn_share", "years_behind",
    "us_add", "cn_add_licensed", "cn_add_leakage", "cn_add_domestic",
    "us_capex_usd_bn", "us_power_gw",
)  # fmt: skip
#: Codes of the limit that binds each flow, per scenario, draw and year (what each code
#: means); summaries report the share of draws per limit as ``binding_<flow>_<limit>``.
BINDING = {
    "binding_us": US_LIMITS,
    "binding_cn": CN_LIMITS,
    "binding_cn_foreign": CN_FOREIGN_LIMITS,
}


def binding_shares(codes: np.ndarray, limits: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Share of draws (axis -2) in which each limit binds, by limit name."""
    return {limit: (codes == i).mean(axis=-2) for i, limit in enumerate(limits)}


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
