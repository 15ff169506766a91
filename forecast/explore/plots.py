"""The explorer's figures as Plotly figure dicts (JSON for the browser; no plotly import).

Labels, units and colours come from the report's figures (:mod:`forecast.report.figures`), so
the explorer and the report name every quantity alike. Text from scenario files is escaped
for HTML (Plotly renders a subset of HTML in labels).
"""

from __future__ import annotations

from html import escape

import numpy as np

from forecast.core import CN_LIMITS, US_LIMITS
from forecast.explore.desk import STATUS_QUO, fan
from forecast.metrics import binding_shares
from forecast.projection import Projection
from forecast.report.figures import (
    BINDING_PANELS,
    CHANNEL_COLORS,
    CN_CHANNELS,
    LIMIT_COLORS,
    METRIC_INFO,
    scenario_colors,
)

#: Fan charts the explorer shows, by element id.
FANS = {"fig-ratio": "ratio_us_cn", "fig-years": "years_behind"}
_FONT = {"size": 11}
_MARGIN = {"l": 60, "r": 10, "t": 40, "b": 40}


def _css(color: tuple, alpha: float = 1.0) -> str:
    r, g, b = (round(255 * c) for c in color[:3])
    return f"rgba({r},{g},{b},{alpha})"


def _layout(title: str, ytitle: str, log: bool, **extra: object) -> dict:
    return {
        "title": {"text": escape(title), "font": {"size": 13}, "x": 0.01},
        "xaxis": {"title": {"text": "year (end of year)"}},
        "yaxis": {"title": {"text": escape(ytitle)}, "type": "log" if log else "linear"},
        "margin": _MARGIN, "font": _FONT, "height": 320,
        "legend": {"orientation": "h", "y": -0.2}, **extra,
    }  # fmt: skip


def _listed(values: np.ndarray) -> list:
    """Values for JSON: NaN (a year where every draw is censored) becomes null."""
    return [None if np.isnan(v) else float(v) for v in values]


def _band(years: list, q: np.ndarray, name: str, color: tuple, dash: str = "solid") -> list:
    """Median line and 90 % band of one scenario (the band: two traces, filled between)."""
    label = escape(name)
    low = {"x": years, "y": _listed(q[0]), "mode": "lines", "line": {"width": 0},
           "showlegend": False, "hoverinfo": "skip", "name": f"{label}: 5 %"}  # fmt: skip
    high = {"x": years, "y": _listed(q[2]), "mode": "lines", "line": {"width": 0},
            "fill": "tonexty", "fillcolor": _css(color, 0.15), "showlegend": False,
            "hoverinfo": "skip", "name": f"{label}: 95 %"}  # fmt: skip
    median = {"x": years, "y": _listed(q[1]), "mode": "lines", "name": f"{label}: median",
              "line": {"color": _css(color), "width": 2, "dash": dash}}  # fmt: skip
    return [low, high, median]


def fan_figure(projection: Projection, metric: str) -> dict:
    """Median and 90 % interval of ``metric`` for every scenario of ``projection``."""
    info = METRIC_INFO[metric]
    colors = scenario_colors(projection.names)
    years = projection.years.tolist()
    traces = []
    for name in projection.names:
        traces += _band(years, fan(projection, metric, name), name, colors[name])
    return {"data": traces, "layout": _layout(f"{info.title}: median and 90 % interval",
                                              info.ylabel, info.log)}  # fmt: skip


def stocks_figure(projection: Projection) -> dict:
    """US (solid) and Chinese (dashed) installed compute per scenario, log scale."""
    colors = scenario_colors(projection.names)
    years = projection.years.tolist()
    traces = []
    for metric, country, dash in (("us_h100e", "US", "solid"), ("cn_h100e", "China", "dash")):
        for name in projection.names:
            q = fan(projection, metric, name)
            traces += _band(years, q, f"{name} ({country})", colors[name], dash)
    unit = METRIC_INFO["us_h100e"].unit
    layout = _layout("US vs China installed AI compute", f"installed AI compute ({unit})", True)
    return {"data": traces, "layout": layout}


def additions_figure(projection: Projection, name: str) -> dict:
    """China's additions by channel under ``name`` (median; status quo dotted)."""
    since = projection.meta.get("first_limited_year", int(projection.years[0])) - 5
    shown = projection.years >= since
    years = projection.years[shown].tolist()
    traces = []
    for scenario, dash in ((name, "solid"), (STATUS_QUO, "dot")):
        i = projection.names.index(scenario)
        for (channel, label), color in zip(CN_CHANNELS.items(), CHANNEL_COLORS):
            median = np.median(projection.values[channel][i][:, shown], axis=0)
            traces.append({"x": years, "y": median.tolist(), "mode": "lines",
                           "name": f"{escape(label)} ({escape(scenario)})",
                           "line": {"color": color, "dash": dash, "width": 2}})  # fmt: skip
    return {"data": traces, "layout": _layout("China's additions by channel (median)",
                                              "H100e added per year", True)}  # fmt: skip


def binding_figure(projection: Projection, name: str) -> dict:
    """What binds under ``name``: the share of draws each limit caps US and China's
    domestic additions (stacked, projection years)."""
    i = projection.names.index(name)
    first = projection.meta.get("first_limited_year", int(projection.years[0]))
    shown = projection.years >= first
    years = projection.years[shown].tolist()
    traces = []
    for (metric, label), axis, limits in zip(BINDING_PANELS.items(), ("y", "y2"),
                                             (US_LIMITS, CN_LIMITS)):  # fmt: skip
        shares = binding_shares(projection.values[metric][i][:, shown], limits)
        for (limit, share), color in zip(shares.items(), LIMIT_COLORS):
            traces.append({"x": years, "y": share.tolist(), "stackgroup": metric,
                           "name": f"{label}: {limit}", "yaxis": axis,
                           "line": {"color": color, "width": 0.5}})  # fmt: skip
    layout = _layout(f"What binds under {name}", "share of draws (US)", False)
    layout["yaxis"].update({"domain": [0.55, 1.0], "range": [0, 1]})
    layout["yaxis2"] = {"domain": [0.0, 0.45], "range": [0, 1],
                        "title": {"text": "share (China domestic)"}}  # fmt: skip
    return {"data": traces, "layout": layout}


def attribution_figure(table: object, name: str, year: int) -> dict:
    """Horizontal bars: each lever's mean Shapley contribution to log(ratio_us_cn) in
    ``year`` against the status quo, whiskers the 90 % interval (empty: no lever differs)."""
    title = f"What each lever does in {year}: {name} vs {STATUS_QUO}"
    layout = _layout(title, "", False, height=260)
    layout["xaxis"] = {"title": {"text": "change in log(ratio_us_cn) (+: a wider US lead)"}}
    if table is None:
        layout["annotations"] = [{"text": "no lever differs from the status quo", "x": 0.5,
                                  "y": 0.5, "xref": "paper", "yref": "paper",
                                  "showarrow": False}]  # fmt: skip
        return {"data": [], "layout": layout}
    mean = table["mean"].to_numpy()
    bars = {"type": "bar", "orientation": "h", "x": mean.tolist(),
            "y": table["lever"].tolist(), "name": "mean",
            "marker": {"color": ["#c44e52" if m >= 0 else "#4c72b0" for m in mean]},
            "error_x": {"type": "data", "symmetric": False,
                        "array": (table["q95"].to_numpy() - mean).tolist(),
                        "arrayminus": (mean - table["q05"].to_numpy()).tolist()}}  # fmt: skip
    layout["yaxis"]["autorange"] = "reversed"
    return {"data": [bars], "layout": layout}
