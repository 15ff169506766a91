"""The model configuration: priors, interventions, measurement links and noise, in one place.

Everything the Bayesian stock-flow model assumes is written here, each with its source or
reasoning; ``stockflow.py`` says what the model *is*, this file says what it *assumes*.

* :data:`PRIORS` - every free scalar of the latent process (the random-walk innovations are
  standard normal and not listed).
* :data:`INTERVENTIONS` - export-control events as dated shifts on the channel they act on.
* :data:`FACTORS` - scale factors of the measurement model (coverage fractions, unit
  conversions) that the data cannot pin down alone, so each carries an informative prior.
* :data:`LINKS` - every shipped series the model uses, **by id, here and nowhere else**, with
  the latent quantity it measures. :data:`EXCLUDED` lists shipped series deliberately left out.
* :data:`QUALITY_SD` - how the ``quality`` flag widens an observation's noise.

:func:`model_config` merges user overrides into these defaults (unknown names are errors) and
:meth:`ModelConfig.key` gives a stable hash used in the fit cache key.
"""

from __future__ import annotations

import csv
import hashlib
import json
import warnings
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Literal

from forecast.errors import InputError
from forecast.priors import DISTRIBUTIONS, DeprecatedFormWarning, Prior

#: How the ``a`` and ``b`` columns of ``assumptions.csv`` name their distribution's
#: parameters (``normal``: mean and sd; ``lognormal``: median and sd of the log, kept away
#: from 0 for random-walk sds, where non-centred walks funnel when the data cannot tell walk
#: noise from observation noise; ``beta``: mean and sd). A prior in one of these forms is
#: written ``a``/``b`` in :meth:`ModelConfig.key` too, so the key did not change when the
#: priors became :class:`~forecast.priors.Prior` objects.
CSV_PARAMETERS: dict[str, tuple[str, str]] = {
    "normal": ("mu", "sigma"),
    "lognormal": ("median", "sigma"),
    "beta": ("mu", "sigma"),
}


def _read(name: str) -> list[dict]:
    """Rows of a CSV file beside this module (every number the model assumes lives there)."""
    with (Path(__file__).parent / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _prior(row: dict) -> Prior:
    a, b = CSV_PARAMETERS[row["dist"]]
    return Prior(row["dist"], source=row["source"], **{a: float(row["a"]), b: float(row["b"])})


#: ``assumptions.csv``: every prior (group ``prior``: the latent process; ``world``: beyond
#: the data; ``factor``: measurement scale factors; ``intervention``: export-control shifts),
#: with its source or rationale.
ASSUMPTIONS = _read("assumptions.csv")
#: ``settings.csv``: the scalar settings, quality multipliers and conversions, with rationale.
SETTINGS = {row["name"]: row for row in _read("settings.csv")}
#: ``links.csv``: each link's noise, scale and year conventions, with rationale.
LINK_NUMBERS = {row["link"]: row for row in _read("links.csv")}


def _group(group: str) -> dict[str, Prior]:
    return {r["name"]: _prior(r) for r in ASSUMPTIONS if r["group"] == group}


def _setting(name: str) -> float:
    return float(SETTINGS[name]["value"])


#: Priors of the latent process. Log and logit scales are noted in each name's source text;
#: years are calendar years and "ref" is :attr:`ModelConfig.ref_year`.
PRIORS: dict[str, Prior] = _group("prior")


@dataclass(frozen=True)
class Intervention:
    """A dated export-control event acting on one channel.

    Attributes
    ----------
    event_id : str
        ``event_id`` in ``events.csv``; absent events (e.g. after ``until``) are skipped.
    channel : {"licensed_share", "allowed_perf", "leakage", "domestic_growth"}
        Logit shift of a share, or a shift of the log growth of domestic potential output.
    prior : Prior
        Prior of the shift (reached in full from the first full year after the event).
    """

    event_id: str
    channel: Literal["licensed_share", "allowed_perf", "leakage", "domestic_growth"]
    prior: Prior


INTERVENTIONS: tuple[Intervention, ...] = tuple(
    Intervention(r["name"], r["channel"], _prior(r))
    for r in ASSUMPTIONS
    if r["group"] == "intervention"
)

#: Scale factors of the measurement model, log scale: ``normal(mean, sd)`` of log(factor).
FACTORS: dict[str, Prior] = _group("factor")

#: Priors of the world beyond the data: what bends growth and what limits it (DESIGN.md,
#: frame v2). The data cannot inform them (they describe the future), so their posterior is
#: their prior; they are drawn per posterior draw with the projection's seed.
WORLD: dict[str, Prior] = _group("world")

Aggregate = Literal["annual", "stock", "cum_since", "flow_from_cum"]


@dataclass(frozen=True)
class Link:
    """How one or more shipped series measure a latent quantity.

    Attributes
    ----------
    name : str
        Short name of the link (used in messages and the observation table).
    series : tuple of tuple of str
        Series ids. Each inner tuple is one stream, read from the first id that has a value
        for the period (e.g. a 10-K series, then guidance). Streams are separate observations
        unless ``total`` is set.
    total : bool
        Sum the streams per period into one observation; a period counts only when every
        stream has it (``flow_from_cum`` streams, which start at different dates, are summed
        over those that have started).
    quantity : str
        Latent yearly quantity measured (see ``stockflow.QUANTITIES``).
    aggregate : {"annual", "stock", "cum_since", "flow_from_cum"}
        ``annual``: a flow or rate of the year (sub-annual periods only for shares);
        ``stock``: an end-of-period stock (quarters interpolated between year ends);
        ``cum_since``: additions summed from ``since`` to the period's end (Q4/annual only);
        ``flow_from_cum``: yearly differences of cumulative series (each from its own start).
    transform : {"log", "share"}
        Noise on the log scale (positive quantities) or on the share scale.
    sd : float
        Measurement sd of a ``reported`` observation (before :data:`QUALITY_SD`).
    model_sd : float
        Extra sd for the link itself being approximate (definitions, coverage drift).
    factors : tuple of str
        Names in :data:`FACTORS` multiplying the quantity.
    scale : float
        Known constant multiplying the quantity (unit conversions).
    chip : str or None
        Chip name in ``chips.csv``: the quantity is multiplied by its H100e per chip.
    year_shift : int
        Added to the period's year (Nvidia's FY2025 ends Jan 2025 -> calendar 2024: -1).
    since : int or None
        First year of a ``cum_since`` sum.
    first_year : int or None
        Ignore observations (after the shift) before this year.
    bound : {"lower", "upper"} or None
        Read every value (or, without one, the range's end) as a one-sided bound on the
        quantity, e.g. Google's compute <= US compute.
    required : bool
        Missing series are an error (otherwise the link is skipped, and the fit notes it).
    note : str
        Why the link is built this way.
    """

    name: str
    series: tuple[tuple[str, ...], ...]
    quantity: str
    total: bool = False
    aggregate: Aggregate = "annual"
    transform: Literal["log", "share"] = "log"
    sd: float = 0.05
    model_sd: float = 0.1
    factors: tuple[str, ...] = ()
    scale: float = 1.0
    chip: str | None = None
    year_shift: int = 0
    since: int | None = None
    first_year: int | None = None
    bound: Literal["lower", "upper"] | None = None
    required: bool = False
    note: str = ""


def _one(*ids: str) -> tuple[tuple[str, ...], ...]:
    """Each id its own observation stream."""
    return tuple((i,) for i in ids)


def _numbered(links: tuple[Link, ...]) -> tuple[Link, ...]:
    """The links with their numbers and rationale from ``links.csv`` (one row per link)."""
    out = []
    for link in links:
        row = LINK_NUMBERS[link.name]
        optional = {k: int(row[k]) if row[k] else None for k in ("since", "first_year")}
        out.append(replace(
            link, sd=float(row["sd"]), model_sd=float(row["model_sd"]),
            scale=float(row["scale"]), year_shift=int(row["year_shift"]), note=row["rationale"],
            **optional,
        ))  # fmt: skip
    return tuple(out)


LINKS: tuple[Link, ...] = _numbered(
    (
        Link(
            "us_capex",
            (
                ("msft_capex_usd_bn",),
                ("googl_capex_usd_bn", "googl_capex_guidance_usd_bn"),
                ("amzn_capex_usd_bn", "amzn_capex_guidance_usd_bn"),
                ("meta_capex_usd_bn", "meta_capex_incl_leases_usd_bn"),
                ("orcl_capex_usd_bn",),
            ),
            "us_capex_usd_bn",
            total=True,
            required=True,
        ),
        Link("us_capex_guidance", _one("big4_orcl_capex_guidance_usd_bn"), "us_capex_usd_bn"),
        Link(
            "us_epoch_additions",
            _one(
                "msft_nvidia_cum_h100e",
                "meta_nvidia_cum_h100e",
                "amzn_nvidia_cum_h100e",
                "googl_nvidia_cum_h100e",
                "orcl_nvidia_cum_h100e",
                "tpu_cum_h100e",
                "trainium_cum_h100e",
                "xai_nvidia_cum_h100e",
            ),
            "us_add",
            total=True,
            aggregate="flow_from_cum",
            factors=("us_epoch_coverage",),
        ),
        Link(
            "nvda_dc_revenue",
            _one("nvda_dc_revenue_fy_usd_bn"),
            "us_accel_spend_usd_bn",
            factors=("nvda_dc_per_us_accel",),
        ),
        Link(
            "chip_prices",
            _one("nvda_h100_price_usd"),
            "price_usd_per_h100e",
            chip="NVIDIA H100 SXM5 80GB",
        ),
        Link(
            "a100_price",
            _one("nvda_a100_price_usd"),
            "price_usd_per_h100e",
            chip="NVIDIA A100 SXM4 80 GB",
        ),
        Link(
            "gb200_price", _one("nvda_gb200_price_usd"), "price_usd_per_h100e", chip="NVIDIA GB200"
        ),
        Link(
            "gb300_price",
            _one("nvda_gb300_price_usd"),
            "price_usd_per_h100e",
            chip="NVIDIA GB300 (Blackwell Ultra)",
        ),
        Link(
            "h20_price",
            _one("nvda_h20_price_usd"),
            "licensed_price_per_h100e",
            chip="NVIDIA HGX H20",
        ),
        Link(
            "clusters_us",
            _one("clusters_us_h100e"),
            "us_h100e",
            aggregate="stock",
            factors=("clusters_us_coverage",),
        ),
        Link(
            "caict_2025_us",
            _one("seed_caict_us_eflops"),
            "us_h100e",
            aggregate="stock",
            factors=("caict_2025_eflops_per_h100e",),
        ),
        Link(
            "google_compute",
            _one("seed_google_ai_compute_h100e"),
            "us_h100e",
            aggregate="stock",
            bound="lower",
        ),
        Link(
            "us_share_high_end",
            _one("seed_us_share_global_high_end_gpus"),
            "us_share_stock",
            aggregate="stock",
            transform="share",
        ),
        Link(
            "cn_us_high_end",
            _one("seed_cn_us_high_end_chip_ratio"),
            "cn_us_ratio",
            aggregate="stock",
        ),
        Link(
            "cn_licensed_epoch",
            _one("cn_nvidia_licensed_cum_h100e"),
            "cn_add_licensed",
            aggregate="cum_since",
        ),
        Link(
            "cn_smuggled_epoch",
            _one("cn_nvidia_smuggled_cum_h100e"),
            "cn_add_leakage",
            aggregate="cum_since",
        ),
        Link(
            "cn_huawei_epoch",
            _one("cn_huawei_cum_h100e"),
            "cn_add_domestic",
            aggregate="cum_since",
            factors=("huawei_share_domestic",),
        ),
        Link(
            "cn_cambricon_epoch",
            _one("cn_cambricon_cum_h100e"),
            "cn_add_domestic",
            aggregate="cum_since",
            factors=("cambricon_share_domestic",),
        ),
        Link(
            "nvda_china_revenue",
            _one("nvda_china_revenue_fy_usd_bn"),
            "cn_licensed_spend_usd_bn",
            factors=("nvda_cn_per_licensed_spend",),
        ),
        Link(
            "huawei_units",
            _one(
                "huawei_ascend_output_units_ft",
                "huawei_ascend_output_units_semianalysis",
                "cn_accel_cards_huawei_units_idc",
            ),
            "cn_add_domestic",
            factors=("huawei_share_domestic",),
        ),
        Link(
            "domestic_units",
            _one("cn_accel_cards_domestic_units_idc", "cn_domestic_ai_chips_units_bernstein"),
            "cn_add_domestic",
            factors=("domestic_units_per_h100e",),
        ),
        Link(
            "cn_domestic_share",
            _one("cn_domestic_share_accel_units_idc", "cn_domestic_share_ai_chips_bernstein"),
            "cn_domestic_share_add",
            transform="share",
        ),
        Link(
            "cn_foreign_share",
            _one("seed_cn_ai_server_foreign_chip_share"),
            "cn_foreign_share_add",
            transform="share",
        ),
        Link(
            "nvda_cn_share",
            _one(
                "nvda_share_cn_ai_accel_huang",
                "nvda_share_cn_ai_accel_bernstein",
                "nvda_share_cn_accel_units_idc",
                "seed_nvda_cn_ai_chip_market_share",
            ),
            "cn_foreign_share_add",
            transform="share",
            factors=("nvidia_share_of_foreign",),
        ),
        Link(
            "domestic_yield",
            _one("huawei_910c_yield", "huawei_910b_yield", "seed_cn_ai_chip_yield"),
            "domestic_yield",
            transform="share",
        ),
        Link(
            "cnas_smuggled_units",
            _one("cn_smuggled_chips_units_cnas"),
            "cn_add_leakage",
            factors=("smuggled_units_per_h100e",),
        ),
        Link(
            "cnas_cloud_front",
            _one("cn_smuggled_cloud_front_units_cnas"),
            "cn_add_leakage",
            factors=("smuggled_units_per_h100e",),
            bound="lower",
        ),
        Link(
            "cnas_smuggled_share",
            _one(
                "cn_smuggled_share_inference_compute_cnas",
                "cn_smuggled_share_training_compute_cnas",
            ),
            "cn_leakage_share_stock",
            aggregate="stock",
            transform="share",
        ),
        Link(
            "caict_cn_infra",
            _one("caict_cn_compute_eflops"),
            "cn_h100e",
            aggregate="stock",
            factors=("caict_infra_eflops_per_h100e",),
        ),
        Link(
            "caict_2025_cn",
            _one("seed_caict_cn_eflops"),
            "cn_h100e",
            aggregate="stock",
            factors=("caict_2025_eflops_per_h100e",),
        ),
        Link(
            "clusters_cn",
            _one("clusters_cn_h100e"),
            "cn_h100e",
            aggregate="stock",
            factors=("clusters_cn_coverage",),
        ),
        Link(
            "cn_market",
            _one("cn_ai_accel_market_usd_bn_bernstein", "seed_bernstein_cn_ai_chip_demand_usd_bn"),
            "cn_accel_spend_usd_bn",
        ),
        Link(
            "idc_server_market",
            _one("cn_accel_server_market_usd_bn_idc"),
            "cn_accel_spend_usd_bn",
            factors=("idc_server_per_spend",),
        ),
        Link(
            "cn_domestic_revenue",
            _one("seed_cn_ai_chip_revenue_usd_bn"),
            "cn_domestic_spend_usd_bn",
        ),
        Link("bernstein_cn_added", _one("compute_added_cn_eflops_bernstein"), "cn_add"),
    )
)

#: Shipped series deliberately not linked, with the reason (series not listed anywhere in this
#: file are not used either: specs, plans, model lags, company finances, non-China data).
EXCLUDED: dict[str, str] = {
    "nvda_china_revenue_share": "= China revenue / total revenue, both shipped: same information",
    "nvda_revenue_fy_usd_bn": "total revenue mixes gaming; the DC segment is linked",
    "big4_capex_usd_bn": "sums of the same filings as the us_capex link (double counting)",
    "big4_capex_estimate_usd_bn": "as big4_capex_usd_bn",
    "clusters_us_share": "derived from clusters_{us,cn}_h100e, which are linked",
    "gpu_cluster_perf_share_us": "Epoch's own summary of the same cluster data",
    "cn_share_global_ai_compute_owned_epoch": "share of a global total the model does not have",
    "caict_us_share_global_compute": "share of a CAICT global total the model does not have",
    "tencent_capex_cny_bn": "CNY series need FX rates, which are not shipped",
    "cn_hbm_stockpile_910c_equiv_units": "supply capacity: used in the hbm_cap_log prior",
    "smic_advanced_capacity_wpm": "wafer capacity: used in the domestic_growth prior's reasoning",
    "seed_cn_intelligent_computing_centre_utilization": "new centres only: utilization prior",
}

#: Multiplier of a link's measurement sd by an observation's ``quality``.
QUALITY_SD: dict[str, float] = {
    name.split(".", 1)[1]: float(row["value"])
    for name, row in SETTINGS.items()
    if name.startswith("quality_sd.")
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything the model assumes; hashable into the cache key.

    Attributes
    ----------
    start_year : int
        First modelled year (hyperscaler capex filings start in 2015).
    ref_year : int
        Reference year of the price level and the yield (2023: Epoch prices start in 2022).
    pre_sample_growth : float
        Growth factor of additions before ``start_year``, fixing the initial stock
        ``K(start-1) = A(start) * r / (1 - r)`` with ``r = (1 - d) / growth`` (the 2015 stock
        is tiny next to the 2025 one, so this barely matters).
    interval_z : float
        Ranges ``low..high`` are read as 5-95 % intervals (Epoch's p5/p95): sd = width / 2z.
    hbm_cap_free : float
        ``hbm_cap_h100e`` before the HBM rule: large, i.e. not binding.
    priors, interventions, factors, links, quality_sd, world
        See the module constants.
    guidance_link : str
        Link whose observations may extend the modelled years by one year past the last
        year of complete filings (the limits apply from that year on).
    ocf_series : tuple of str
        Operating cash flow of the five firms: their sum in the last complete year is the
        base of the financing ceiling.
    power_chip : str
        Chip (chips.csv) whose TDP per H100e anchors the kW per H100e of new US chips.
    domestic_chip, domestic_dies_per_chip : str, int
        China's reference accelerator (chips.csv) and its logic dies per package: H100e per
        good die for the wafer limit, HBM stacks per H100e for the HBM limit.
    """

    start_year: int = int(_setting("start_year"))
    ref_year: int = int(_setting("ref_year"))
    pre_sample_growth: float = _setting("pre_sample_growth")
    interval_z: float = _setting("interval_z")
    hbm_cap_free: float = _setting("hbm_cap_free")
    priors: dict[str, Prior] = field(default_factory=lambda: dict(PRIORS))
    interventions: tuple[Intervention, ...] = INTERVENTIONS
    factors: dict[str, Prior] = field(default_factory=lambda: dict(FACTORS))
    links: tuple[Link, ...] = LINKS
    quality_sd: dict[str, float] = field(default_factory=lambda: dict(QUALITY_SD))
    world: dict[str, Prior] = field(default_factory=lambda: dict(WORLD))
    guidance_link: str = "us_capex_guidance"
    ocf_series: tuple[str, ...] = (
        "msft_ocf_usd_bn", "googl_ocf_usd_bn", "amzn_ocf_usd_bn", "meta_ocf_usd_bn",
        "orcl_ocf_usd_bn",
    )  # fmt: skip
    power_chip: str = "NVIDIA GB200"
    domestic_chip: str = "Huawei Ascend 910C"
    domestic_dies_per_chip: int = int(_setting("domestic_dies_per_chip"))

    def key(self) -> str:
        """SHA-256 of the configuration (stable across runs and dict orderings).

        Sources, rationales and notes are left out: rewording one does not change the fit.
        """
        text = json.dumps(_numbers_only(_plain(self)), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def series_ids(self) -> list[str]:
        """Every series id the model reads, in link order."""
        return [sid for link in self.links for comp in link.series for sid in comp]


def _plain(value: object) -> object:
    """``dataclasses.asdict`` of ``value``, with each prior as ``{"dist", PARAM: VALUE}``
    (``a``/``b`` for the forms of :data:`CSV_PARAMETERS`, as the key has always had them)."""
    if isinstance(value, Prior):
        names = CSV_PARAMETERS.get(value.dist)
        if names == value.names:
            return {"dist": value.dist, "a": value[names[0]], "b": value[names[1]]}
        return {"dist": value.dist, **value.params}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _numbers_only(value: object) -> object:
    """``value`` without its ``source`` and ``note`` text, recursively."""
    if isinstance(value, dict):
        return {k: _numbers_only(v) for k, v in value.items() if k not in ("source", "note")}
    if isinstance(value, list | tuple):
        return [_numbers_only(v) for v in value]
    return value


def _update(obj: object, changes: dict, where: str) -> object:
    """``dataclasses.replace`` with a clear error for unknown field names."""
    known = {f.name for f in fields(obj)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise InputError(f"unknown field(s) {unknown} in {where}; valid: {sorted(known)}")
    return replace(obj, **changes)


def _update_prior(prior: Prior, change: object, where: str) -> Prior:
    """``prior`` with an override: a :class:`Prior`, or a dict of some of its parameters
    (``{"mu": 0.25}``), of a whole distribution (``{"dist": "beta", "alpha": 2, "beta": 5}``)
    and/or ``source``. The old names ``a``/``b`` (:data:`CSV_PARAMETERS`) still work, with a
    :class:`~forecast.priors.DeprecatedFormWarning`."""
    if isinstance(change, Prior):
        return change
    if not isinstance(change, dict):
        raise InputError(f"{where}: expected a Prior or a dict of its parameters, got {change!r}")
    change = dict(change)
    source = change.pop("source", prior.source)
    dist = change.pop("dist", prior.dist)
    old = CSV_PARAMETERS.get(dist, ())
    if old and {"a", "b"} & set(change):
        renamed = {"a": old[0], "b": old[1]}
        written = ", ".join(f"{renamed[k]!r} for {k!r}" for k in ("a", "b") if k in change)
        warnings.warn(
            f"{where}: a and b are the old names of {dist}'s {old[0]} and {old[1]}; write "
            f"{written}",
            DeprecatedFormWarning,
            stacklevel=5,
        )
        change = {renamed.get(k, k): v for k, v in change.items()}
    known = sorted({n for names in DISTRIBUTIONS.get(dist, ()) for n in names} | {"dist", "source"})
    unknown = sorted(set(change) - set(known))
    if unknown:
        raise InputError(f"unknown field(s) {unknown} in {where}; valid: {known}")
    try:
        updated = prior.with_params(**change) if dist == prior.dist else Prior(dist, **change)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None
    return Prior(updated.dist, source=source, **updated.params)


def _merge_named(base: dict[str, Prior], changes: dict, where: str) -> dict[str, Prior]:
    unknown = sorted(set(changes) - set(base))
    if unknown:
        raise InputError(f"unknown name(s) {unknown} in {where}; valid: {sorted(base)}")
    return {
        name: _update_prior(prior, changes[name], f"{where}[{name!r}]")
        if name in changes
        else prior
        for name, prior in base.items()
    }


def model_config(overrides: dict | None = None) -> ModelConfig:
    """The default configuration with user overrides merged in.

    Parameters
    ----------
    overrides : dict, optional
        Top-level fields of :class:`ModelConfig`; ``priors``, ``factors`` and ``world`` take
        ``{name: change}`` and update only the priors named: a change is a
        :class:`~forecast.priors.Prior`, or a dict of some of its parameters or ``source``,
        or of a whole distribution, e.g.
        ``{"priors": {"retirement": {"mu": 0.25}}, "start_year": 2016}`` (the old names
        ``a``/``b`` of :data:`CSV_PARAMETERS` still work, with a warning).

    Returns
    -------
    ModelConfig

    Raises
    ------
    InputError
        For unknown names or fields.
    """
    config = ModelConfig()
    changes = dict(overrides or {})
    for name in ("priors", "factors", "world"):
        if name in changes:
            changes[name] = _merge_named(getattr(config, name), changes[name], name)
    return _update(config, changes, "model configuration")
