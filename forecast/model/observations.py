"""The measurement design: turn a Dataset and the config's links into arrays the model reads.

Each observation measures ``scale * prod(factors) * sum_t W[t] * q[t]`` of one latent yearly
quantity ``q`` (a year's flow, an end-of-period stock interpolated between year ends, or a sum
of additions since a start year). Its noise is normal on the log scale (positive quantities) or
on the share scale; its sd combines the source's own interval (if any), the link's measurement
sd widened by ``quality`` and the link's model sd. Ranges without a point value and one-sided
bounds stay interval or censored observations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from forecast.data import Dataset
from forecast.errors import FitError, InputError
from forecast.model.config import Link, ModelConfig
from forecast.periods import parse_period

#: Observation kinds: a point value, a lower bound, an upper bound, an interval.
POINT, LOWER, UPPER, INTERVAL = 0, 1, 2, 3
#: The latent yearly quantities a link may measure; :mod:`forecast.model.stockflow` computes
#: every one (defined here, which stockflow imports, so that neither imports the other).
QUANTITIES: tuple[str, ...] = (
    "us_capex_usd_bn", "us_accel_share", "price_usd_per_h100e", "us_accel_spend_usd_bn",
    "us_add", "us_h100e",
    "cn_demand_usd_bn", "licensed_share", "allowed_perf", "leakage",
    "domestic_output_h100e_potential", "domestic_yield", "hbm_cap_h100e",
    "cn_add_licensed", "cn_add_leakage", "cn_add_domestic", "cn_add",
    "cn_licensed_h100e", "cn_leakage_h100e", "cn_domestic_h100e", "cn_h100e",
    "cn_licensed_spend_usd_bn", "cn_domestic_spend_usd_bn", "cn_accel_spend_usd_bn",
    "licensed_price_per_h100e", "cn_foreign_share_add", "cn_domestic_share_add",
    "cn_leakage_share_stock", "us_share_stock", "cn_us_ratio",
)  # fmt: skip


@dataclass(frozen=True)
class Observations:
    """All observations, one entry per row of every array (transformed scale).

    Attributes
    ----------
    link, series_id, period : numpy.ndarray of str
    quantity : numpy.ndarray of str
        Latent quantity measured.
    weights : numpy.ndarray
        (obs, year) weights of the quantity's yearly values.
    factors : numpy.ndarray
        (obs, factor) 0/1: which measurement factors multiply the quantity.
    scale : numpy.ndarray
        Known constant multiplying the quantity.
    log : numpy.ndarray of bool
        Log-scale noise (else share scale).
    kind : numpy.ndarray of int
        :data:`POINT`, :data:`LOWER`, :data:`UPPER` or :data:`INTERVAL`.
    value, low, high : numpy.ndarray
        On the noise scale; NaN where not used by the kind.
    sd : numpy.ndarray
        Noise sd on that scale.
    """

    link: np.ndarray
    series_id: np.ndarray
    period: np.ndarray
    quantity: np.ndarray
    weights: np.ndarray
    factors: np.ndarray
    scale: np.ndarray
    log: np.ndarray
    kind: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sd: np.ndarray

    def __len__(self) -> int:
        return len(self.link)

    def frame(self) -> pd.DataFrame:
        """A readable table of the observations (natural scale)."""
        back = {c: getattr(self, c) for c in ("value", "low", "high")}
        back = {c: np.where(self.log, np.exp(v), v) for c, v in back.items()}
        return pd.DataFrame(
            {
                "link": self.link,
                "series_id": self.series_id,
                "period": self.period,
                "quantity": self.quantity,
                "kind": np.array(["point", "lower", "upper", "interval"])[self.kind],
                **back,
                "sd": self.sd,
                "noise": np.where(self.log, "log", "share"),
            }
        )


@dataclass(frozen=True)
class Design:
    """What the model needs from the data: years, interventions and observations.

    Attributes
    ----------
    years : numpy.ndarray
        Modelled calendar years.
    interventions : tuple of (str, str)
        (event_id, channel) of every intervention present in the data, in config order.
    ramps : numpy.ndarray
        (intervention, year): fraction of each year after the event (0 before, 1 after).
    hbm_capped : numpy.ndarray of bool
        Years after the HBM rule, when ``hbm_cap_h100e`` may bind.
    hbm_year : int
        Year of the HBM rule (a far-future year if it is not in the data).
    factor_names : tuple of str
        Measurement factors used (columns of ``obs.factors``).
    obs : Observations
    skipped : tuple of str
        Links or observations left out, with the reason.
    n_full : int
        Number of leading years with complete filings; later modelled years (guidance) and
        the projection are where the physical limits apply.
    anchors : dict of str to float
        Data anchors of the forward model (:data:`forecast.core.ANCHORS`, plus the chip
        figures the world priors combine with: ``chip_kw_per_h100e``,
        ``domestic_h100e_per_die``).
    wafer_plan : dict of int to float
        China's advanced-node wafer capacity by year (wafers per month; plans included).
    """

    years: np.ndarray
    interventions: tuple[tuple[str, str], ...]
    ramps: np.ndarray
    hbm_capped: np.ndarray
    factor_names: tuple[str, ...]
    obs: Observations
    hbm_year: int = 10_000
    skipped: tuple[str, ...] = ()
    n_full: int = 0
    anchors: dict = field(default_factory=dict)
    wafer_plan: dict = field(default_factory=dict)

    def extended(self, years: int) -> Design:
        """The design over ``years`` more years (for forecasts): events in force stay in force.

        The observations are unchanged (their weights are padded with zeros).
        """
        future = self.years[-1] + np.arange(1, years + 1)
        obs = replace(self.obs, weights=np.pad(self.obs.weights, ((0, 0), (0, years))))
        return replace(
            self,
            years=np.concatenate([self.years, future]),
            ramps=np.pad(self.ramps, ((0, 0), (0, years)), constant_values=1.0),
            hbm_capped=np.concatenate([self.hbm_capped, future > self.hbm_year]),
            obs=obs,
        )

    def with_values(self, value: np.ndarray, low: np.ndarray, high: np.ndarray) -> Design:
        """A copy with new observed values (same kinds, weights and noise)."""
        return replace(self, obs=replace(self.obs, value=value, low=low, high=high))


@dataclass
class _Row:
    """One observation on the natural scale, before transformation."""

    year: int
    weights: dict[int, float]
    value: float
    low: float
    high: float
    quality: str
    series_id: str
    period: str
    rel_sd: float = np.nan  # relative sd from a differenced cumulative series


_QUALITY_ORDER = ("reported", "secondary", "estimate", "unconfirmed")
#: The HBM rule after which domestic additions may be capped by HBM supply.
HBM_EVENT = "dec2024_hbm_sme_rule"
#: The required link that fixes the last modelled year.
ANCHOR_LINK = "us_capex"
#: China's HBM stockpile (stacks) and the Ascend 910C packages it could supply.
HBM_STOCKPILE_SERIES = ("cn_hbm_stockpile_stacks", "cn_hbm_stockpile_910c_equiv_units")
#: China's own HBM output (stacks per year).
HBM_OUTPUT_SERIES = "cxmt_hbm_output_stacks"
#: China's advanced-node wafer capacity (wafers per month; the later years are plans).
WAFER_SERIES = "smic_advanced_capacity_wpm"


def _worst(qualities: list[str]) -> str:
    return max(qualities, key=_QUALITY_ORDER.index)


def _rows_of(dataset: Dataset, sid: str) -> pd.DataFrame:
    obs = dataset.observations
    rows = obs[obs["series_id"] == sid]
    return rows.assign(parsed=rows["period"].map(parse_period))


def _position(link: Link, period, years: range) -> dict[int, float] | None:
    """Weights over years for one period, or None if the link does not use this period."""
    year = period.year + link.year_shift
    end_fraction = period.end_month / 12
    if link.aggregate == "annual":
        if period.freq != "A" and link.transform == "log":
            return None  # sub-annual flows: the annual series carry the same information
        return {year: 1.0}
    if link.aggregate == "stock":
        if end_fraction == 1.0 or year - 1 not in years:
            return {year: 1.0}
        return {year: end_fraction, year - 1: 1.0 - end_fraction}
    if end_fraction != 1.0:
        return None  # cumulative series: year-end values only
    start = link.since if link.aggregate == "cum_since" else year
    return {y: 1.0 for y in range(start, year + 1)}


def _component_rows(dataset: Dataset, link: Link, ids: tuple[str, ...], years: range) -> dict:
    """{(year, period): _Row} of one component, from the first id with a value for it."""
    out: dict = {}
    for sid in ids:
        for row in _rows_of(dataset, sid).itertuples():
            weights = _position(link, row.parsed, years)
            key = (row.parsed.year + link.year_shift, row.parsed.label)
            taken = link.aggregate == "annual" and any(k[0] == key[0] for k in out)
            if weights is None or taken:
                continue
            out[key] = _Row(key[0], weights, row.value, row.low, row.high, row.quality, sid,
                            row.period)  # fmt: skip
    return out


def _flows_from_cum(dataset: Dataset, ids: tuple[str, ...]) -> list[_Row]:
    """Yearly additions of one cumulative series (the stream's first id): year-end
    differences, the first year's addition being its year-end value (the series starts then).
    """
    rows = _rows_of(dataset, ids[0])
    if rows.empty:
        return []
    first = min(p.year for p in rows["parsed"])
    ends = rows[rows["parsed"].map(lambda p: p.end_month == 12)]
    by_year = {p.year: r for p, r in zip(ends["parsed"], ends.itertuples())}
    out = []
    for year, row in sorted(by_year.items()):
        before = 0.0 if year == first else getattr(by_year.get(year - 1), "value", np.nan)
        flow = row.value - before
        if not np.isfinite(flow) or flow <= 0:
            continue
        rel = np.log(row.high / row.low) if np.isfinite(row.low * row.high) else np.nan
        out.append(_Row(year, {year: 1.0}, flow, np.nan, np.nan, row.quality, ids[0],
                        f"{year}-Q4", rel_sd=rel))  # fmt: skip
    return out


def _sum_flows(components: list[list[_Row]]) -> list[_Row]:
    """Sum the yearly flows of several series; the relative sd is value-weighted."""
    by_year: dict[int, list[_Row]] = {}
    for rows in components:
        for row in rows:
            by_year.setdefault(row.year, []).append(row)
    out = []
    for year, rows in sorted(by_year.items()):
        values = np.array([r.value for r in rows])
        rels = np.array([r.rel_sd for r in rows])
        known = np.isfinite(rels)
        rel = values[known] @ rels[known] / values[known].sum() if known.any() else np.nan
        out.append(_Row(year, {year: 1.0}, values.sum(), np.nan, np.nan,
                        _worst([r.quality for r in rows]),
                        "+".join(r.series_id for r in rows), f"{year}", rel_sd=rel))  # fmt: skip
    return out


def _sum_components(components: list[dict]) -> list[_Row]:
    """Per (year, period) sum over components; a range in any component makes a range."""
    keys = set.intersection(*(set(c) for c in components)) if components else set()
    out = []
    for key in sorted(keys):
        rows = [c[key] for c in components]
        if len(rows) == 1:
            out.append(rows[0])
            continue
        points = all(np.isfinite(r.value) for r in rows)
        low = sum(r.value if np.isfinite(r.value) else r.low for r in rows)
        high = sum(r.value if np.isfinite(r.value) else r.high for r in rows)
        out.append(_Row(key[0], rows[0].weights,
                        sum(r.value for r in rows) if points else np.nan,
                        np.nan if points else low, np.nan if points else high,
                        _worst([r.quality for r in rows]),
                        "+".join(r.series_id for r in rows), key[1]))  # fmt: skip
    return out


def _link_rows(dataset: Dataset, link: Link, years: range) -> list[_Row]:
    if link.aggregate == "flow_from_cum":
        return _sum_flows([_flows_from_cum(dataset, ids) for ids in link.series])
    streams = [_component_rows(dataset, link, ids, years) for ids in link.series]
    if link.total:
        return _sum_components(streams)
    return [row for stream in streams for _, row in sorted(stream.items())]


def _transformed(row: _Row, link: Link, config: ModelConfig) -> tuple | None:
    """(kind, value, low, high, sd) on the noise scale, or None if unusable."""
    value, low, high = row.value, row.low, row.high
    if link.bound == "lower":
        value, low, high = np.nan, value if np.isfinite(value) else low, np.nan
    elif link.bound == "upper":
        value, low, high = np.nan, np.nan, value if np.isfinite(value) else high
    f = np.log if link.transform == "log" else (lambda x: x)
    if link.transform == "log" and any(np.isfinite(x) and x <= 0 for x in (value, low, high)):
        return None
    value, low, high = (f(x) if np.isfinite(x) else np.nan for x in (value, low, high))
    z = config.interval_z
    own = row.rel_sd / (2 * z)
    if np.isfinite(value) and np.isfinite(low) and np.isfinite(high):
        own = (high - low) / (2 * z)
    elif np.isfinite(value) and np.isfinite(low):
        own = (value - low) / z
    elif np.isfinite(value) and np.isfinite(high):
        own = (high - value) / z
    base = link.sd * config.quality_sd[row.quality]
    sd = float(np.sqrt(np.nan_to_num(own) ** 2 + base**2 + link.model_sd**2))
    if np.isfinite(value):
        return POINT, value, np.nan, np.nan, sd
    kind = (
        INTERVAL if np.isfinite(low) and np.isfinite(high) else LOWER if np.isfinite(low) else UPPER
    )
    return kind, np.nan, low, high, sd


def _chip_h100e(dataset: Dataset, chip: str) -> float:
    """H100e per chip from chips.csv (dense BF16 / 989.4); NaN if unknown (or after until)."""
    rows = dataset.chips[dataset.chips["chip"] == chip]
    return float(rows["bf16_dense_tflops"].iloc[0]) / 989.4 if len(rows) else np.nan


def _available(dataset: Dataset, link: Link) -> tuple[Link, list[str]]:
    """The link restricted to series in the data, and its streams that have none."""
    known = set(dataset.series["series_id"])
    streams = [tuple(sid for sid in ids if sid in known) for ids in link.series]
    missing = [" or ".join(ids) for ids, kept in zip(link.series, streams) if not kept]
    return replace(link, series=tuple(s for s in streams if s)), missing


def _end_years(dataset: Dataset, config: ModelConfig) -> tuple[int, int]:
    """Last year of complete filings, and last modelled year (one more if guided)."""
    anchor = next(link for link in config.links if link.name == ANCHOR_LINK)
    rows = _link_rows(dataset, anchor, range(config.start_year, 3000))
    years = [r.year for r in rows if r.year >= config.start_year]
    if not years:
        raise FitError(
            f"no year from {config.start_year} has every series of the {ANCHOR_LINK!r} link "
            f"({', '.join(' or '.join(c) for c in anchor.series)}); the model needs them"
        )
    full = max(years)
    guided = [link for link in config.links if link.name == config.guidance_link]
    ahead = [r.year for link in guided for r in _link_rows(dataset, _available(dataset, link)[0],
                                                            range(full, full + 2))]  # fmt: skip
    return full, full + 1 if full + 1 in ahead else full


def _latest(dataset: Dataset, sid: str, until: int) -> tuple[int, float] | None:
    """(year, value) of a series' latest observation up to ``until`` (a range's midpoint)."""
    rows = _rows_of(dataset, sid)
    rows = rows[[p.year <= until for p in rows["parsed"]]]
    if rows.empty:
        return None
    row = rows.iloc[int(np.argmax([p.decimal_year for p in rows["parsed"]]))]
    value = row.value if np.isfinite(row.value) else np.nanmean([row.low, row.high])
    return row.parsed.year, float(value)


def _chip(dataset: Dataset, chip: str, column: str) -> float:
    """A chip's figure from chips.csv; NaN when the chip is not known by the cut-off."""
    rows = dataset.chips[dataset.chips["chip"] == chip]
    return float(rows[column].iloc[0]) if len(rows) else np.nan


def _power_chip(dataset: Dataset, config: ModelConfig) -> tuple[float, float]:
    """(year, kW per H100e) of the configured reference chip, or, before it was known, of
    the most power-efficient chip with a TDP known by the cut-off (none: 0, no power limit
    and no power tracked)."""
    chips = dataset.chips.dropna(subset=["tdp_w", "h100e"])
    if not len(chips):
        return float(dataset.chips["year"].max()), 0.0
    kw = chips["tdp_w"] / 1e3 / chips["h100e"]
    known = chips["chip"] == config.power_chip
    row = known.idxmax() if known.any() else kw.idxmin()
    return float(chips.loc[row, "year"]), float(kw[row])


def world_anchors(dataset: Dataset, config: ModelConfig, full: int) -> tuple[dict, dict]:
    """Data anchors of the forward model and China's wafer capacity plan.

    The financing ceiling's base is the five firms' operating cash flow in the latest year
    all five report (up to ``full``); HBM and wafer figures are the latest known by the
    data's cut-off. A limit whose figures are not in the data by the cut-off does not apply
    (it was not known then): infinite cash flow, stockpile or wafer capacity.
    """
    ocf = [_annual(dataset, sid) for sid in config.ocf_series]
    common = [y for y in set.intersection(*(set(o) for o in ocf)) if y <= full] if ocf else []
    h100e_chip = _chip(dataset, config.domestic_chip, "h100e")
    power_year, power_kw = _power_chip(dataset, config)
    anchors = {  # without cash flow in the data by the cut-off, no financing ceiling
        "us_ocf_usd_bn": float(sum(o[max(common)] for o in ocf)) if common else np.inf,
        "us_ocf_year": float(max(common)) if common else float(full),
        "kw_ref_year": power_year,
        "chip_kw_per_h100e": power_kw,
        # China's chip unknown by the cut-off: its wafer and HBM figures are too (no limit)
        "domestic_h100e_per_die": np.nan_to_num(
            h100e_chip / config.domestic_dies_per_chip, nan=1.0
        ),
        "hbm_stockpile_stacks": np.inf,
        "hbm_stockpile_year": np.nan,
        "hbm_stacks_per_h100e": 1.0,
        "cn_hbm_output_stacks": 0.0,
        "cn_hbm_output_year": float(full),
    }
    stock, units = (_latest(dataset, sid, full) for sid in HBM_STOCKPILE_SERIES)
    if stock and units and np.isfinite(h100e_chip):
        anchors["hbm_stockpile_year"], anchors["hbm_stockpile_stacks"] = map(float, stock)
        anchors["hbm_stacks_per_h100e"] = stock[1] / units[1] / h100e_chip
    output = _latest(dataset, HBM_OUTPUT_SERIES, full)
    if output:
        anchors["cn_hbm_output_year"], anchors["cn_hbm_output_stacks"] = map(float, output)
    return anchors, _annual(dataset, WAFER_SERIES)


def _annual(dataset: Dataset, sid: str) -> dict[int, float]:
    """{year: value} of a series' point values."""
    rows = _rows_of(dataset, sid)
    return {p.year: float(v) for p, v in zip(rows["parsed"], rows["value"]) if np.isfinite(v)}


def _ramps(dataset: Dataset, config: ModelConfig, years: np.ndarray) -> tuple:
    dates = dict(zip(dataset.events["event_id"], dataset.events["date"]))
    present = [(i.event_id, i.channel) for i in config.interventions if i.event_id in dates]
    ramps = np.zeros((len(present), len(years)))
    for row, (event_id, _) in enumerate(present):
        day = date.fromisoformat(dates[event_id])
        after = 1.0 - (day.timetuple().tm_yday - 1) / 365.0
        ramps[row] = np.where(years > day.year, 1.0, np.where(years == day.year, after, 0.0))
    hbm_year = int(dates[HBM_EVENT][:4]) if HBM_EVENT in dates else 10_000
    return tuple(present), ramps, years > hbm_year, hbm_year


def build_design(dataset: Dataset, config: ModelConfig) -> Design:
    """Build the measurement design of ``dataset`` under ``config``.

    Parameters
    ----------
    dataset : Dataset
    config : ModelConfig

    Returns
    -------
    Design

    Raises
    ------
    FitError
        If a required series is missing or has no usable year.
    InputError
        If a link names an unknown quantity or factor.
    """
    required_missing = [
        stream for link in config.links if link.required for stream in _available(dataset, link)[1]
    ]
    if required_missing:
        raise FitError(
            f"series {required_missing} are required by the model configuration but missing "
            "from the data (series.csv)"
        )
    full, last = _end_years(dataset, config)
    years = np.arange(config.start_year, last + 1)
    span = range(int(years[0]), int(years[-1]) + 1)
    factor_names = tuple(sorted({f for link in config.links for f in link.factors}))
    records, skipped = [], []
    for link in config.links:
        if link.quantity not in QUANTITIES:
            raise InputError(f"link {link.name!r}: unknown quantity {link.quantity!r}")
        unknown = [f for f in link.factors if f not in config.factors]
        if unknown:
            raise InputError(f"link {link.name!r}: unknown factor(s) {unknown}")
        link, missing = _available(dataset, link)
        if missing:
            skipped.append(f"{link.name}: series {missing} not in the data")
        if not link.series or (missing and link.total):
            continue
        rows = _link_rows(dataset, link, span)
        scale = link.scale * (_chip_h100e(dataset, link.chip) if link.chip else 1.0)
        if rows and not np.isfinite(scale):
            skipped.append(f"{link.name}: chip {link.chip!r} has no BF16 figure in chips.csv")
            continue
        for row in rows:
            if link.first_year is not None and row.year < link.first_year:
                continue
            if not set(row.weights) <= set(span):
                continue
            values = _transformed(row, link, config)
            if values is None:
                skipped.append(f"{link.name}: {row.series_id} {row.period} is not positive")
                continue
            records.append((link, row, scale, values))
    interventions, ramps, hbm_capped, hbm_year = _ramps(dataset, config, years)
    obs = _stack(records, years, factor_names)
    anchors, plan = world_anchors(dataset, config, full)
    return Design(
        years, interventions, ramps, hbm_capped, factor_names, obs, hbm_year, tuple(skipped),
        n_full=int(full - years[0] + 1), anchors=anchors, wafer_plan=plan,
    )  # fmt: skip


def _stack(records: list, years: np.ndarray, factor_names: tuple[str, ...]) -> Observations:
    n, first = len(records), int(years[0])
    weights = np.zeros((n, len(years)))
    factors = np.zeros((n, len(factor_names)))
    for i, (link, row, _, _) in enumerate(records):
        for year, w in row.weights.items():
            weights[i, year - first] = w
        for f in link.factors:
            factors[i, factor_names.index(f)] = 1.0
    kind, value, low, high, sd = (np.array(c) for c in zip(*[r[3] for r in records]))
    return Observations(
        link=np.array([r[0].name for r in records]),
        series_id=np.array([r[1].series_id for r in records]),
        period=np.array([r[1].period for r in records]),
        quantity=np.array([r[0].quantity for r in records]),
        weights=weights,
        factors=factors,
        scale=np.array([r[2] for r in records], dtype=float),
        log=np.array([r[0].transform == "log" for r in records]),
        kind=kind.astype(int),
        value=value.astype(float),
        low=low.astype(float),
        high=high.astype(float),
        sd=sd.astype(float),
    )


def link_of(config: ModelConfig, series_id: str) -> Link:
    """The link that reads ``series_id`` as a yearly observation (for forecasts).

    Raises
    ------
    FitError
        If no link reads it, or only as part of a sum of cumulative series.
    """
    for link in config.links:
        if any(series_id in ids for ids in link.series) and link.aggregate != "flow_from_cum":
            return link
    raise FitError(f"the Bayesian model does not measure series {series_id!r} by itself")


def _share_of_total(dataset: Dataset, link: Link, series_id: str, span: range) -> float:
    """The series' share of its link's total in the last period both are observed."""
    own = _rows_of(dataset, series_id).set_index("period")["value"]
    for row in reversed(_link_rows(dataset, link, span)):
        if series_id in row.series_id.split("+") and np.isfinite(own.get(row.period, np.nan)):
            if np.isfinite(row.value):
                return float(own[row.period] / row.value)
    raise FitError(f"series {series_id!r} has no year shared with its {link.name!r} total")


def forecast_observations(
    dataset: Dataset, config: ModelConfig, series_id: str, labels: np.ndarray, years: np.ndarray
) -> Observations:
    """Observations (values unset) of ``series_id`` for the period labels ``labels``.

    Their means are what the model predicts for the series, and their sd the link's noise at
    the quality of the series' last observation. A series that is one part of a summed link
    (e.g. one company's capex) is predicted as the total times its last observed share.

    Parameters
    ----------
    dataset : Dataset
    config : ModelConfig
    series_id : str
    labels : numpy.ndarray
        Period years (as the series labels them, e.g. Nvidia's fiscal years).
    years : numpy.ndarray
        Modelled years, covering every label after the link's year shift.
    """
    link = link_of(config, series_id)
    span = range(int(years[0]), int(years[-1]) + 1)
    quality = _rows_of(dataset, series_id)["quality"].iloc[-1]
    scale = link.scale * (_chip_h100e(dataset, link.chip) if link.chip else 1.0)
    if link.total:
        scale *= _share_of_total(dataset, link, series_id, span)
    sd = float(np.hypot(link.sd * config.quality_sd[quality], link.model_sd))
    records = []
    for label in labels:
        period = parse_period(str(int(label)))
        row = _Row(period.year + link.year_shift, _position(link, period, span), np.nan, np.nan,
                   np.nan, quality, series_id, period.label)  # fmt: skip
        records.append((link, row, scale, (POINT, np.nan, np.nan, np.nan, sd)))
    factor_names = tuple(sorted({f for ln in config.links for f in ln.factors}))
    return _stack(records, years, factor_names)
