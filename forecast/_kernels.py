"""Compiled inner loops of the scenario engine (numba): stock recursion and gap metrics.

One pass per (scenario, draw) row keeps the working set in cache instead of sweeping
(scenario, draw, year) arrays once per year and metric.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _log_at(level: np.ndarray, log: np.ndarray, j: int) -> float:
    """``log(level[j])``, taken once per row and year (``log[j]`` is NaN until then)."""
    if math.isnan(log[j]):
        log[j] = math.log(level[j])
    return log[j]


@numba.njit(cache=True)
def _lag(
    running_max: np.ndarray, log_max: np.ndarray, target: float, years: np.ndarray, t: int
) -> tuple:
    """(lag, censored): years since the leader's running maximum first reached ``target``,
    interpolated in log space between the two years around the crossing.

    Levels are compared as they are (log is monotone); logarithms are taken only where a
    lag is interpolated, and of the leader's levels once per row: most lags are censored.
    """
    if running_max[0] >= target:
        return years[t] - years[0], True
    j = 1
    while j < t and running_max[j] < target:
        j += 1
    low = _log_at(running_max, log_max, j - 1)
    frac = (math.log(target) - low) / (_log_at(running_max, log_max, j) - low)
    return max(years[t] - (years[j - 1] + frac * (years[j] - years[j - 1])), 0.0), False


@numba.njit(cache=True)
def row_years_behind(
    us: np.ndarray,
    cn: np.ndarray,
    years: np.ndarray,
    out: np.ndarray,
    censored: np.ndarray,
    scratch: np.ndarray,
) -> None:
    """Fill ``out[t]`` with China's signed lag behind the US at each year of one row.

    See :func:`forecast.metrics.years_behind` for the definition; ``censored[t]`` is 1 where
    the crossing lies before the data (the lag is then a bound, ``t - years[0]``).
    ``scratch``: a (4, year) work array (reused across rows): each stock's running maximum
    and its logarithm.
    """
    us_max, us_log, cn_max, cn_log = scratch[0], scratch[1], scratch[2], scratch[3]
    us_top, cn_top = -math.inf, -math.inf
    for t in range(us.shape[0]):
        us_top, cn_top = max(us_top, us[t]), max(cn_top, cn[t])
        us_max[t], cn_max[t] = us_top, cn_top
        us_log[t], cn_log[t] = math.nan, math.nan
    for t in range(us.shape[0]):
        if cn[t] == us[t]:
            out[t], censored[t] = 0.0, 0.0
            continue
        if cn[t] < us[t]:
            lag, cut = _lag(us_max, us_log, cn[t], years, t)
        else:
            lag, cut = _lag(cn_max, cn_log, us[t], years, t)
            lag = -lag
        out[t] = lag
        censored[t] = 1.0 if cut else 0.0


@numba.njit(cache=True)
def years_behind_rows(us: np.ndarray, cn: np.ndarray, years: np.ndarray) -> tuple:
    """:func:`row_years_behind` over the rows of 2-d arrays (row, year): (lag, censored)."""
    out = np.empty(us.shape)
    censored = np.empty(us.shape)
    scratch = np.empty((4, us.shape[1]))
    for i in range(us.shape[0]):
        row_years_behind(us[i], cn[i], years, out[i], censored[i], scratch)
    return out, censored


#: Outputs of :func:`project_rows`, in this order (axis 0 of ``out``).
OUTPUTS = (
    "us_h100e", "cn_h100e", "ratio_us_cn", "cn_share", "years_behind",
    "us_eff_h100e", "cn_eff_h100e", "ratio_eff_us_cn",
    "us_add", "cn_add_licensed", "cn_add_leakage", "cn_add_domestic",
    "us_capex_usd_bn", "us_power_gw", "binding_us", "binding_cn", "binding_cn_foreign",
    "years_behind_censored",
)  # fmt: skip


@numba.njit(cache=True)
def _row(x: np.ndarray, s: int, d: int) -> np.ndarray:
    """``x[s, d]`` (a view over years) of a driver passed once (leading axis 1) or per
    scenario; taken once per row, so the year loop indexes one axis."""
    return x[min(s, x.shape[0] - 1), d]


@numba.njit(cache=True, error_model="numpy", nogil=True)
def project_rows(
    drivers: tuple,
    scalars: tuple,
    hist: np.ndarray,
    frozen: np.ndarray,
    limited: np.ndarray,
    hbm_index: int,
    years: np.ndarray,
    out: np.ndarray,
    first_draw: int,
    end_draw: int,
) -> None:
    """Flows under the limits, stocks and gap metrics: :func:`forecast.core.roll_forward`
    fused with the gap metrics, one pass per (scenario, draw) row (tested equal to it).

    Parameters
    ----------
    drivers : tuple of numpy.ndarray
        :data:`forecast.core.DRIVERS` in order, each (scenario or 1, draw, year): a driver
        no scenario of the chunk changes is passed once, with a leading axis of 1.
    scalars : tuple of numpy.ndarray
        :data:`forecast.core.SCALARS` in order, each (draw,).
    hist : (8, draw, year)
        Stocks then flows as fitted (:data:`forecast.core.STOCKS` order).
    frozen : (scenario, year) bool
    limited : (year,) bool
    hbm_index : int
    years : (year,) float
    out : (len(OUTPUTS), scenario, draw, year)
    first_draw, end_draw : int
        The draws ``first_draw <= d < end_draw`` are projected (the rest of ``out`` is left
        as it is), so threads can share one call's arrays; the kernel releases the GIL.
    """
    (
        capex_d,
        ceiling_d,
        share_d,
        price_d,
        power_d,
        kw_d,
        supply_d,
        row_d,
        demand_d,
        licensed_d,
        allowed_d,
        leakage_d,
        output_d,
        yield_d,
        cap_d,
        wafer_d,
        hbm_out_d,
        capacity_d,
        enforce_d,
        premium_d,
        subst_d,
        restrict_d,
        unserved0_d,
        util_us_d,
        util_cn_d,
    ) = drivers
    retirement, per_wafer, stacks_per, stockpile0, premium0, dom_price = scalars
    n_scen, n_year = out.shape[1], out.shape[3]
    stock = np.empty(4)
    flow = np.empty(4)
    scratch = np.empty((4, n_year))
    for s in range(n_scen):
        for d in range(first_draw, end_draw):
            capex_r = _row(capex_d, s, d)
            price_r = _row(price_d, s, d)
            demand_r = _row(demand_d, s, d)
            licensed_r = _row(licensed_d, s, d)
            allowed_r = _row(allowed_d, s, d)
            leakage_r = _row(leakage_d, s, d)
            yield_r = _row(yield_d, s, d)
            output_r = _row(output_d, s, d)
            cap_r = _row(cap_d, s, d)
            hbm_out_r = _row(hbm_out_d, s, d)
            kw_r = _row(kw_d, s, d)
            share_r = _row(share_d, s, d)
            restrict_r = _row(restrict_d, s, d)
            premium_r = _row(premium_d, s, d)
            capacity_r = _row(capacity_d, s, d)
            enforce_r = _row(enforce_d, s, d)
            subst_r = _row(subst_d, s, d)
            unserved0_r = _row(unserved0_d, s, d)
            ceiling_r = _row(ceiling_d, s, d)
            power_r = _row(power_d, s, d)
            supply_r = _row(supply_d, s, d)
            row_r = _row(row_d, s, d)
            wafer_r = _row(wafer_d, s, d)
            util_us_r = _row(util_us_d, s, d)
            util_cn_r = _row(util_cn_d, s, d)
            keep = 1.0 - retirement[d]
            power_used = 0.0
            planned_used = 0.0
            stockpile = math.inf
            for t in range(n_year):
                capex = capex_r[t]
                price = price_r[t]
                demand = demand_r[t]
                lic = licensed_r[t]
                allowed = allowed_r[t]
                leak = leakage_r[t]
                yld = yield_r[t]
                dom_want = output_r[t] * yld
                cap = cap_r[t]
                hbm_out = hbm_out_r[t]
                kw = kw_r[t]
                per_usd = 1e9 / price  # H100e per USD bn
                want_cn = demand * per_usd
                flow[0] = capex * per_usd * share_r[t]
                flow[1] = want_cn * lic * allowed
                flow[2] = leak * want_cn * (1.0 - lic)
                flow[3] = min(dom_want, cap)
                code_us, code_cn, code_foreign = 0.0, 0.0, 0.0
                spent = capex
                if limited[t]:
                    # China's foreign channels: licences, then smuggling up to its capacity
                    restrict = restrict_r[t]
                    factor = premium_r[t]
                    restricted = demand * (1.0 - lic)
                    flow[1] = want_cn * lic * (1.0 - restrict) * allowed
                    smuggle = leak * restricted * per_usd * premium0[d] / factor
                    capacity = capacity_r[t] * (1.0 - enforce_r[t])
                    if capacity < smuggle:
                        smuggle, code_foreign = capacity, 1.0
                    flow[2] = smuggle
                    unserved = max(restricted + demand * lic * restrict
                                   - smuggle * price * factor / 1e9, 0.0)  # fmt: skip
                    extra = subst_r[t] * (unserved - unserved0_r[t])
                    dom_want = max(dom_want + extra * per_usd / dom_price[d], 0.0)
                    # US: money, finance, power; China's share of short world supply is set
                    # against the US order (money within a full envelope's new power)
                    ceiling = ceiling_r[t]
                    money = flow[0] if ceiling >= capex else flow[0] * (ceiling / capex)
                    spent = min(capex, ceiling)
                    per_gw = 1e6 / kw
                    power = max(power_r[t] - keep * power_used, 0.0) * per_gw
                    order = min(money, max(power_r[t] - keep * planned_used, 0.0) * per_gw)
                    best, code_us = flow[0], 0.0
                    if money < best:
                        best, code_us = money, 1.0
                    if power < best:
                        best, code_us = power, 2.0
                    room = supply_r[t] * (1.0 - row_r[t])
                    total = max(order + flow[1] + flow[2], 1e-300)
                    scale = room / total if room < total else 1.0  # divides only when short
                    if scale < 1.0:
                        flow[1] *= scale
                        flow[2] *= scale
                        code_foreign = 2.0
                    room -= flow[1] + flow[2]
                    if room < best:
                        best, code_us = room, 3.0
                    flow[0] = best
                    # China's fabs: wafers and HBM
                    wafers = wafer_r[t] * per_wafer[d] * yld
                    hbm = cap if math.isfinite(cap) else (hbm_out + stockpile) / stacks_per[d]
                    best, code_cn = dom_want, 0.0
                    if wafers < best:
                        best, code_cn = wafers, 1.0
                    if hbm < best:
                        best, code_cn = hbm, 2.0
                    flow[3] = best
                fixed = frozen[s, t] or t == 0
                for c in range(4):
                    if fixed:
                        flow[c] = hist[4 + c, d, t]
                        stock[c] = hist[c, d, t]
                    else:
                        stock[c] = keep * stock[c] + flow[c]
                if t == 0:
                    power_used = stock[0] * kw / 1e6
                else:
                    power_used = keep * power_used + flow[0] * kw / 1e6
                planned_used = power_r[t] if limited[t] else power_used
                drawn = max(flow[3] * stacks_per[d] - hbm_out, 0.0)
                stockpile = stockpile0[d] if t == hbm_index else max(stockpile - drawn, 0.0)
                us = stock[0]
                cn = stock[1] + stock[2] + stock[3]
                us_eff = us * util_us_r[t]
                cn_eff = cn * util_cn_r[t]
                out[0, s, d, t] = us
                out[1, s, d, t] = cn
                out[2, s, d, t] = us / cn
                out[3, s, d, t] = cn / (us + cn)
                out[5, s, d, t] = us_eff
                out[6, s, d, t] = cn_eff
                out[7, s, d, t] = us_eff / cn_eff
                for c in range(4):
                    out[8 + c, s, d, t] = flow[c]
                out[12, s, d, t] = spent
                out[13, s, d, t] = power_used
                out[14, s, d, t] = code_us
                out[15, s, d, t] = code_cn
                out[16, s, d, t] = code_foreign
            row_years_behind(
                out[0, s, d], out[1, s, d], years, out[4, s, d], out[17, s, d], scratch
            )
