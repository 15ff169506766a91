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


#: Outputs of :func:`project_rows`, in this order (axis 0 of ``out``).
OUTPUTS = (
    "us_h100e", "cn_h100e", "ratio_us_cn", "cn_share", "years_behind",
    "us_add", "cn_add_licensed", "cn_add_leakage", "cn_add_domestic",
    "us_capex_usd_bn", "us_power_gw", "binding_us", "binding_cn", "binding_cn_foreign",
)  # fmt: skip


@numba.njit(cache=True, error_model="numpy")
def project_rows(
    drivers: tuple,
    scalars: tuple,
    hist: np.ndarray,
    frozen: np.ndarray,
    limited: np.ndarray,
    hbm_index: int,
    utilization: np.ndarray,
    years: np.ndarray,
    out: np.ndarray,
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
    utilization : (scenario or 1, draw, year)
    years : (year,) float
    out : (len(OUTPUTS), scenario, draw, year)
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
    ) = drivers
    retirement, per_wafer, stacks_per, stockpile0 = scalars
    n_scen, n_draw, n_year = out.shape[1], out.shape[2], out.shape[3]
    stock = np.empty(4)
    flow = np.empty(4)
    for s in range(n_scen):
        for d in range(n_draw):
            keep = 1.0 - retirement[d]
            power_used = 0.0
            stockpile = math.inf
            for t in range(n_year):
                i = (min(s, capex_d.shape[0] - 1), d, t)
                capex = capex_d[i]
                price = price_d[min(s, price_d.shape[0] - 1), d, t]
                share = share_d[min(s, share_d.shape[0] - 1), d, t]
                want_cn = demand_d[min(s, demand_d.shape[0] - 1), d, t] * 1e9 / price
                lic = licensed_d[min(s, licensed_d.shape[0] - 1), d, t]
                flow[0] = capex * 1e9 * share / price
                flow[1] = want_cn * lic * allowed_d[min(s, allowed_d.shape[0] - 1), d, t]
                flow[2] = leakage_d[min(s, leakage_d.shape[0] - 1), d, t] * want_cn * (1.0 - lic)
                yld = yield_d[min(s, yield_d.shape[0] - 1), d, t]
                dom_want = output_d[min(s, output_d.shape[0] - 1), d, t] * yld
                cap = cap_d[min(s, cap_d.shape[0] - 1), d, t]
                flow[3] = min(dom_want, cap)
                hbm_out = hbm_out_d[min(s, hbm_out_d.shape[0] - 1), d, t]
                kw = kw_d[min(s, kw_d.shape[0] - 1), d, t]
                code_us, code_cn, code_foreign = 0.0, 0.0, 0.0
                spent = capex
                if limited[t]:
                    ceiling = ceiling_d[min(s, ceiling_d.shape[0] - 1), d, t]
                    money = flow[0] * min(1.0, ceiling / capex)
                    spent = min(capex, ceiling)
                    headroom = power_d[min(s, power_d.shape[0] - 1), d, t] - keep * power_used
                    power = max(headroom, 0.0) * 1e6 / kw
                    best, code_us = flow[0], 0.0
                    if money < best:
                        best, code_us = money, 1.0
                    if power < best:
                        best, code_us = power, 2.0
                    room = supply_d[min(s, supply_d.shape[0] - 1), d, t] * (
                        1.0 - row_d[min(s, row_d.shape[0] - 1), d, t]
                    )
                    scale = min(1.0, room / max(best + flow[1] + flow[2], 1e-300))
                    if scale < 1.0:
                        code_us, code_foreign = 3.0, 1.0
                    flow[0] = best * scale
                    flow[1] *= scale
                    flow[2] *= scale
                    wafers = wafer_d[min(s, wafer_d.shape[0] - 1), d, t] * per_wafer[d] * yld
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
                drawn = max(flow[3] * stacks_per[d] - hbm_out, 0.0)
                stockpile = stockpile0[d] if t == hbm_index else max(stockpile - drawn, 0.0)
                us = stock[0]
                cn = (stock[1] + stock[2] + stock[3]) * utilization[
                    min(s, utilization.shape[0] - 1), d, t
                ]
                out[0, s, d, t] = us
                out[1, s, d, t] = cn
                out[2, s, d, t] = us / cn
                out[3, s, d, t] = cn / (us + cn)
                for c in range(4):
                    out[5 + c, s, d, t] = flow[c]
                out[9, s, d, t] = spent
                out[10, s, d, t] = power_used
                out[11, s, d, t] = code_us
                out[12, s, d, t] = code_cn
                out[13, s, d, t] = code_foreign
            row_years_behind(out[0, s, d], out[1, s, d], years, out[4, s, d])
