"""Gap metrics on arrays of stocks (names are the public contract, see DESIGN.md)."""

from __future__ import annotations

import numpy as np

from forecast._kernels import years_behind_rows
from forecast.core import CN_FOREIGN_LIMITS, CN_LIMITS, US_LIMITS

#: Gap metrics, flows and the limits' state reported by the scenario engine, in this order.
METRICS = (
    "us_h100e", "cn_h100e", "ratio_us_cn", "cn_share", "years_behind",
    "us_eff_h100e", "cn_eff_h100e", "ratio_eff_us_cn",
    "us_add", "cn_add_licensed", "cn_add_leakage", "cn_add_domestic",
    "us_capex_usd_bn", "us_power_gw",
)  # fmt: skip
#: Unit of every metric.
UNITS = {
    "us_h100e": "H100e", "cn_h100e": "H100e", "ratio_us_cn": "ratio", "cn_share": "fraction",
    "years_behind": "years", "us_eff_h100e": "H100e", "cn_eff_h100e": "H100e",
    "ratio_eff_us_cn": "ratio", "us_add": "H100e per year", "cn_add_licensed": "H100e per year",
    "cn_add_leakage": "H100e per year", "cn_add_domestic": "H100e per year",
    "us_capex_usd_bn": "USD bn", "us_power_gw": "GW",
}  # fmt: skip
#: Codes of the limit that binds each flow, per scenario, draw and year (what each code
#: means); summaries report the share of draws per limit as ``binding_<flow>_<limit>``.
BINDING = {
    "binding_us": US_LIMITS,
    "binding_cn": CN_LIMITS,
    "binding_cn_foreign": CN_FOREIGN_LIMITS,
}


#: Positive metrics whose sensitivity is analysed on the log scale.
LOG_SCALE = tuple(m for m in METRICS if m not in ("cn_share", "years_behind"))
#: 0/1 flags per draw, summarised as the share of draws (``years_behind_censored``: the
#: lag's crossing lies before the data, so ``years_behind`` is only a bound there).
FLAGS = ("years_behind_censored",)


def binding_shares(codes: np.ndarray, limits: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Share of draws (axis -2) in which each limit binds, by limit name."""
    return {limit: (codes == i).mean(axis=-2) for i, limit in enumerate(limits)}


def years_behind(us: np.ndarray, cn: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Signed lag tau: China's stock at t equals the US stock at t - tau (negative: a lead).

    The leader's path is made monotone with its running maximum (the first time it reached a
    level), and the crossing is interpolated in log space between whole years. Where China
    is behind, tau >= 0; where it leads, tau <= 0 is minus the US's lag behind China. Where
    the leader was already past the other's level at the first year, tau is censored at
    ``+-(t - years[0])`` (a bound; :func:`years_behind_censored` flags it).

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
    return _lags(us, cn, years)[0]


def years_behind_censored(us: np.ndarray, cn: np.ndarray, years: np.ndarray) -> np.ndarray:
    """1.0 where :func:`years_behind` is censored at the start of the data, else 0.0."""
    return _lags(us, cn, years)[1]


def _lags(us: np.ndarray, cn: np.ndarray, years: np.ndarray) -> tuple:
    us, cn = np.broadcast_arrays(np.asarray(us, dtype=float), np.asarray(cn, dtype=float))
    lag, censored = years_behind_rows(
        np.ascontiguousarray(us).reshape(-1, us.shape[-1]),
        np.ascontiguousarray(cn).reshape(-1, us.shape[-1]),
        np.asarray(years, dtype=float),
    )
    return lag.reshape(us.shape), censored.reshape(us.shape)
