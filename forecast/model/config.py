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

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

from forecast.errors import ModelError

Dist = Literal["normal", "lognormal", "beta"]


@dataclass(frozen=True)
class Prior:
    """A prior for one scalar.

    Attributes
    ----------
    dist : {"normal", "lognormal", "beta"}
        ``normal``: ``a`` = mean, ``b`` = sd. ``lognormal``: ``a`` = median, ``b`` = sd of the
        log (used for random-walk sds: kept away from 0, where non-centred walks funnel when
        the data cannot tell walk noise from observation noise). ``beta``: ``a`` =
        mean, ``b`` = sd (converted to the usual shape parameters).
    a, b : float
    source : str
        Where the numbers come from, or the reasoning behind them.
    """

    dist: Dist
    a: float
    b: float = 0.0
    source: str = ""

    def beta_shapes(self) -> tuple[float, float]:
        """Shape parameters (alpha, beta) of a ``beta`` prior given by mean and sd."""
        mean, sd = self.a, self.b
        common = mean * (1.0 - mean) / sd**2 - 1.0
        return mean * common, (1.0 - mean) * common


def _n(mean: float, sd: float, source: str) -> Prior:
    return Prior("normal", mean, sd, source)


#: Priors of the latent process. Log and logit scales are noted in each name's source text;
#: years are calendar years and "ref" is :attr:`ModelConfig.ref_year`.
PRIORS: dict[str, Prior] = {
    # --- US: capex -> accelerator spend -> H100e ------------------------------------------
    "us_capex_level0": _n(
        3.2,
        1.0,
        "log Big-5 capex (USD bn) in the first year; 2015 filings "
        "sum to ~24 bn (log 3.2); wide, the data pin it",
    ),
    "us_capex_slope0": _n(
        0.15,
        0.2,
        "log growth of Big-5 capex in the first year; 2010s hyperscaler capex grew ~15-25 %/yr",
    ),
    "us_capex_level_sd": Prior(
        "lognormal",
        0.08,
        0.5,
        source="year-to-year shocks to log capex beyond the trend: filings show ~0-20 % surprises",
    ),
    "us_capex_slope_sd": Prior(
        "lognormal",
        0.06,
        0.5,
        source="changes in the capex growth rate; "
        "the 2023-25 AI build-out raised growth by ~0.3 over 3 years",
    ),
    "us_accel_share0": _n(
        -2.2,
        0.8,
        "logit of a_US in the first year (~10 %: accelerators were "
        "a small part of 2015 data-centre capex)",
    ),
    "us_accel_share_drift": _n(
        0.2,
        0.2,
        "yearly logit drift of a_US: the accelerator share "
        "rose to roughly half of hyperscaler capex by 2024-25 (Alphabet: "
        "~60 % of capex to servers/compute; REFERENCE.md 3)",
    ),
    "us_accel_share_sd": Prior("lognormal", 0.25, 0.5, "year-to-year logit shocks to a_US"),
    "price_log_ref": _n(
        10.1,
        0.3,
        "log USD per H100e in the reference year (2023): Epoch's "
        "H100 price 30-40k, Blackwell cheaper per H100e (~25k, log 10.1)",
    ),
    "price_decline": _n(
        0.335,
        0.06,
        "log decline per year of USD per H100e = the growth of FLOP/s per dollar of ML "
        "accelerators: Epoch AI (Hobbhahn & Besiroglu, 'Trends in GPU price-performance', "
        "2022): ML GPUs double every 2.07 years [1.54, 3.13] -> ln2/2.07 = 0.335 "
        "[0.22, 0.45]; carried forward as the price of one H100e",
    ),
    "retirement": Prior(
        "beta",
        0.2,
        0.05,
        "share of the stock retired per year: accelerators last ~4-6 years (DESIGN.md), so d ~ 1/5",
    ),
    # --- China: demand -> licensed / leaked / domestic -----------------------------------
    "cn_demand0": _n(
        1.0,
        1.0,
        "log USD bn Chinese buyers would spend on foreign accelerators "
        "in the first year (Nvidia China DC sales were a few bn in 2015-18)",
    ),
    "cn_demand_growth": _n(
        0.35,
        0.2,
        "log growth per year of that demand; China's accelerated "
        "server market grew 6.7 -> 22.1 bn in 2022-24 (IDC)",
    ),
    "cn_demand_sd": Prior("lognormal", 0.2, 0.5, "year-to-year log shocks to demand"),
    "licensed_share0": _n(
        3.5, 0.7, "logit of the licensed share before any control (~97 %: all purchases were legal)"
    ),
    "allowed_perf0": _n(
        3.0,
        0.7,
        "logit of allowed performance per dollar before controls "
        "(~95 %: buyers got the frontier chip)",
    ),
    "leakage0": _n(
        -1.4,
        1.0,
        "logit of the fraction of restricted demand that leaks through "
        "(~20 %; CNAS: smuggled chips 1-40 % of China's compute, Epoch 2024-25 "
        "smuggling MC)",
    ),
    "leakage_sd": Prior("lognormal", 0.25, 0.5, "year-to-year logit shocks to leakage"),
    "domestic0": _n(
        8.0,
        1.0,
        "log potential domestic output (H100e) in the first year; Ascend "
        "910 shipped from 2019, so 2015 output was small (~3k H100e)",
    ),
    "domestic_growth": _n(
        0.45,
        0.3,
        "log growth per year of potential domestic output: Huawei "
        "~200k chips (2024) -> ~805k (2025); plan to 'double compute yearly'",
    ),
    "domestic_growth_sd": Prior("lognormal", 0.2, 0.5, "year-to-year shocks to that growth"),
    "domestic_yield_ref": _n(
        -0.6,
        0.7,
        "logit of the domestic yield in the reference year+1 "
        "(2024): 910C ~20-40 %, 910B ~50 % (Reuters, FT)",
    ),
    "domestic_yield_trend": _n(
        0.3, 0.3, "logit change of yield per year (910C 20 % -> 40 % in a few months; target 60 %)"
    ),
    "hbm_cap_log": _n(
        13.8,
        0.5,
        "log H100e per year that China's HBM supply allows after the "
        "Dec-2024 HBM rule: stockpile ~1.6M 910C packages plus CXMT ~0.25-0.3M/yr "
        "(SemiAnalysis) at ~0.57 H100e each -> ~1M (log 13.8)",
    ),
    "domestic_price_ratio": _n(
        0.3,
        0.4,
        "log of domestic price per H100e relative to Nvidia's: "
        "910C (~0.57 H100e) sells for roughly an H100's price (~1.3x)",
    ),
    "utilization": Prior(
        "beta",
        0.7,
        0.15,
        "utilisation of Chinese relative to US capacity "
        "(seed 000: <30 % at *new* Chinese centres; the fleet is better used)",
    ),
}


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


INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention("oct2022_ac_rule", "licensed_share",
                 _n(-0.5, 0.7, "A100/H100 banned but A800/H800 kept most purchases legal")),
    Intervention("oct2022_ac_rule", "allowed_perf",
                 _n(-0.5, 0.5, "A800/H800 keep the compute, cut interconnect")),
    Intervention("oct2022_ac_rule", "domestic_growth",
                 _n(0.2, 0.3, "controls push buyers and state funds to domestic chips")),
    Intervention("oct2023_ac_update", "licensed_share",
                 _n(-1.0, 0.8, "only H20-class chips stay legal; many buyers stop buying")),
    Intervention("oct2023_ac_update", "allowed_perf",
                 _n(-3.8, 0.8, "H20: ~0.15 H100e at ~40-50 % of an H100's price -> ~30 % of "
                    "the frontier's performance per dollar (chips.csv, Epoch prices)")),
    Intervention("dec2024_hbm_sme_rule", "domestic_growth",
                 _n(0.0, 0.4, "HBM and tool controls slow domestic output, while policy and "
                    "stockpiles push it; sign unknown")),
    Intervention("apr2025_h20_licence", "licensed_share",
                 _n(-2.5, 1.0, "H20 needs a licence: Nvidia's China DC sales stop (~$4.5bn "
                    "charge)")),
    Intervention("jul2025_h20_resumed", "licensed_share",
                 _n(1.0, 0.8, "H20 licences to be granted again")),
    Intervention("sep2025_cn_nvidia_guidance", "licensed_share",
                 _n(-1.0, 0.8, "China tells firms to stop buying Nvidia (Huang: share ~0 %)")),
)  # fmt: skip

#: Scale factors of the measurement model, log scale: ``normal(mean, sd)`` of log(factor).
FACTORS: dict[str, Prior] = {
    "us_epoch_coverage": _n(
        -0.16,
        0.1,
        "share of US additions in Epoch's named US owners "
        "(Big-5 Nvidia, TPU, Trainium, xAI) ~0.85; the rest is neoclouds, "
        "labs and enterprises",
    ),
    "nvda_dc_per_us_accel": _n(
        0.4,
        0.4,
        "Nvidia DC revenue per dollar of US accelerator spend: "
        "Nvidia ~80 % of US spend, US ~55 % of Nvidia DC revenue -> ~1.5",
    ),
    "nvda_cn_per_licensed_spend": _n(
        0.0,
        0.25,
        "Nvidia China revenue per dollar of licensed "
        "spend: Nvidia ~90 % of it, plus non-DC China sales",
    ),
    "huawei_share_domestic": _n(
        -0.43,
        0.2,
        "Huawei's share of domestic H100e (~65 %; IDC 2025: "
        "812k of 1.65M domestic cards, higher per-chip compute)",
    ),
    "cambricon_share_domestic": _n(-3.0, 0.5, "Cambricon's share of domestic H100e (~5 %)"),
    "domestic_units_per_h100e": _n(
        0.9,
        0.3,
        "domestic cards per H100e (~2.5: Ascend 0.57, Cambricon 0.26 H100e per chip, Epoch)",
    ),
    "smuggled_units_per_h100e": _n(
        -0.3, 0.3, "smuggled chips per H100e (~0.7: Epoch 466k chips = 662k H100e)"
    ),
    "clusters_us_coverage": _n(
        -1.9,
        0.5,
        "share of US stock in Epoch's GPU-clusters snapshot "
        "(dataset covers ~10-20 % of global compute)",
    ),
    "clusters_cn_coverage": _n(
        -1.9, 0.7, "as for the US; Chinese rows are anonymised and sparser, so wider"
    ),
    "caict_infra_eflops_per_h100e": _n(
        -8.1,
        1.0,
        "CAICT 'total compute' EFLOPS (mixed FP32/FP16 "
        "incl. general compute) per H100e: unknown basis",
    ),
    "caict_2025_eflops_per_h100e": _n(
        -7.6,
        1.5,
        "CAICT early-2025 US/China EFLOPS per H100e: "
        "shared by the US and China figures, unknown basis",
    ),
    "nvidia_share_of_foreign": _n(
        -0.08,
        0.05,
        "Nvidia's share of foreign chips in China (~92 %; AMD ~4 % of all cards, IDC 2025)",
    ),
    "idc_server_per_spend": _n(
        0.0,
        0.5,
        "IDC accelerated-server market per dollar of "
        "accelerator spend (servers add CPUs, memory; not all AI)",
    ),
}


def _ln(median: float, sd_log: float, source: str) -> Prior:
    return Prior("lognormal", median, sd_log, source)


def _beta(mean: float, sd: float, source: str) -> Prior:
    return Prior("beta", mean, sd, source)


#: Priors of the world beyond the data: what bends growth and what limits it (DESIGN.md,
#: frame v2). The data cannot inform them (they describe the future), so their posterior is
#: their prior; they are drawn per posterior draw with the projection's seed.
WORLD: dict[str, Prior] = {
    # --- US money ---------------------------------------------------------------------------
    "capex_damping": _beta(
        0.75,
        0.1,
        "share of the capex growth rate's excess over its long-run rate kept each year "
        "(damped trend, Gardner & McKenzie): the 2023-26 build-out growth (+0.35 log/yr) "
        "halves in ~2.5 years; a shock this large has never been sustained by a sector",
    ),
    "capex_growth_longrun": _n(
        0.08,
        0.04,
        "long-run log growth of Big-5 capex: the firms' operating cash flow grew ~0.23/yr in "
        "2023-25 (10-K, data/ *_ocf_usd_bn) but cloud revenue growth of 10-20 % is the "
        "steady state capex can follow; nominal",
    ),
    "capex_ocf_multiple": _ln(
        1.15,
        0.15,
        "financing ceiling: Big-5 capex at most this multiple of their operating cash flow. "
        "2025 capex/OCF was 0.65 overall (Amazon 0.92, Oracle 1.02; data/ capex and OCF "
        "series); 2026 guidance (650-690 bn) is ~1.0x; debt covers the rest (BofA: 121 bn "
        "of bonds in 2025; Morgan Stanley: ~half of 3 tn DC spend to 2028 from cash flow)",
    ),
    "ocf_growth": _n(
        0.10,
        0.04,
        "log growth of the five firms' operating cash flow beyond the data: 0.23/yr in "
        "2023-25 (data), slowing towards their revenue growth (~10 %)",
    ),
    # --- US power ---------------------------------------------------------------------------
    "power_slack": _n(
        0.05,
        0.05,
        "log of the US AI power envelope over what the installed stock draws at the end of "
        "the data (capacity finished but not yet filled; AI data centres fill within months)",
    ),
    "us_power_build_gw": _ln(
        9.0,
        0.3,
        "GW of US AI data-centre power that can be built and connected in the first "
        "projected year: EPRI & Epoch (2025) 5 GW of US AI power in 2025 -> >50 GW by 2030 "
        "(~9 GW/yr); LBNL (2024): all US data centres 74-132 GW by 2028; interconnection "
        "queues of ~5 years (LBNL Queued Up 2024) keep it from jumping",
    ),
    "us_power_build_growth": _n(
        0.05,
        0.07,
        "log growth per year of the buildable GW: on-site gas and new transmission add slowly "
        "(EPRI 2026: 9-17 % of US generation by 2030 for all data centres)",
    ),
    "power_overhead": _ln(
        2.1,
        0.1,
        "all-in kW (server, network, cooling: PUE) per kW of accelerator TDP: DGX B200 "
        "14.3 kW per 8 x 1 kW GPUs (1.79) x PUE ~1.2; Epoch's ~1,700 W per 700 W H100 "
        "incl. facility (2.4); GB200 NVL72 145 kW / 72 x 1.2 kW (1.68) x PUE",
    ),
    "efficiency_gain": _n(
        0.2,
        0.05,
        "log decline per year of accelerator W per H100e: chips.csv's frontier Nvidia chips "
        "went from ~1,270 (A100, 2020) to ~700 (H100, 2022) and ~440-475 (B200/GB200, "
        "2024-25) W per H100e (~0.26/yr); TDPs now rise with each generation, so slower",
    ),
    # --- world chip supply ------------------------------------------------------------------
    "supply_slack": _n(
        0.05,
        0.05,
        "log of the last data year's accelerator output over what was bought (chips, CoWoS "
        "and HBM were sold out: TrendForce 2024 'still insufficient', SK hynix sold out "
        "2024-26)",
    ),
    "packaging_plan_growth": _n(
        0.45,
        0.12,
        "log growth of advanced-packaging (CoWoS) output in the first projected year, from "
        "capacity plans: TSMC ~70-80k wafers/month at end-2025 -> 93k (Morgan Stanley), "
        "120-130k (MS, raised) or 120-140k (TrendForce) at end-2026",
    ),
    "packaging_supply_growth": _n(
        0.18,
        0.08,
        "log growth per year of packaging capacity after the plans: CoWoS doubled in 2024 "
        "and 2025 (TSMC); fabs, HBM and substrates take 2-3 years to add, so growth slows",
    ),
    "h100e_per_wafer_growth": _n(
        0.12,
        0.05,
        "log growth per year of H100e per packaged wafer with each chip generation: ~29 "
        "H100/H200 (1.0 H100e) vs 16 B200 (2.27 H100e) per CoWoS wafer -> +25 % over one "
        "generation (~2 years)",
    ),
    "row_share": _beta(
        0.3,
        0.07,
        "share of world accelerator output bought outside the US and China: Epoch's GPU "
        "clusters put 80 % of 2025 cluster compute in the US and 14 % in China, but clusters "
        "under-cover the Gulf, Europe and Asia clouds; Nvidia bills ~45 % of DC revenue "
        "outside the US",
    ),
    # --- China's fabs -----------------------------------------------------------------------
    "cn_wafer_plan_factor": _ln(
        0.7,
        0.35,
        "realised fraction of SMIC's advanced-node capacity plan (SemiAnalysis: 45k "
        "wafers/month 2025, 60k 2026, 80k 2027): Nikkei put China's 7/5 nm output below 20k "
        "in early 2026, so plans run late",
    ),
    "cn_wafer_capacity_growth": _n(
        0.15,
        0.1,
        "log growth per year of advanced-node capacity after the plan: tool imports are "
        "controlled (Dec 2024 SME rule); Nikkei reports a 100k target for 2027-28",
    ),
    "cn_ai_wafer_share": _beta(
        0.3,
        0.1,
        "share of China's advanced-node wafers that go to AI accelerators (the rest: Kirin "
        "phone SoCs, other logic); Huawei's ~1M Ascend dies in 2025 (Bloomberg) need ~50-60k "
        "good-die wafers of ~540k started",
    ),
    "cn_gross_dies_per_wafer": _ln(
        80.0,
        0.15,
        "gross dies per 300 mm wafer for an Ascend-class die (~600-700 mm2, standard "
        "dies-per-wafer arithmetic)",
    ),
    "cn_hbm_output_growth": _n(
        0.4,
        0.25,
        "log growth per year of China's own HBM output: CXMT ~2M stacks in 2025 "
        "(SemiAnalysis) and plans to move ~20 % of DRAM wafers (60k/month) to HBM3 in 2026 "
        "(Maeil Business), against yield and tool limits",
    ),
}

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


#: H100e per Huawei Ascend chip on Epoch's basis (its 2025 cumulative H100e / units, 708k/1.25M).
HUAWEI_H100E_PER_CHIP = 0.566
#: EFLOPS (FP16 with sparsity) of one H100e: 2 x 989 TFLOP/s (Bernstein's basis).
EFLOPS_FP16_SPARSE_PER_H100E = 1.979e-3

LINKS: tuple[Link, ...] = (
    # --- US --------------------------------------------------------------------------------
    Link("us_capex", (("msft_capex_usd_bn",),
                      ("googl_capex_usd_bn", "googl_capex_guidance_usd_bn"),
                      ("amzn_capex_usd_bn", "amzn_capex_guidance_usd_bn"),
                      ("meta_capex_usd_bn", "meta_capex_incl_leases_usd_bn"),
                      ("orcl_capex_usd_bn",)),
         "us_capex_usd_bn", total=True, sd=0.02, model_sd=0.03, required=True,
         note="Big-5 capex: sum of the five filings per year (guidance where the year has no "
              "filing yet); Microsoft/Oracle fiscal years are taken as calendar years"),
    Link("us_capex_guidance", _one("big4_orcl_capex_guidance_usd_bn"), "us_capex_usd_bn",
         sd=0.03, model_sd=0.05,
         note="the five firms' combined guidance for the year after the last filings (a range: "
              "an interval observation); the modelled years extend to it, and the physical "
              "limits apply from it on"),
    Link("us_epoch_additions",
         (("msft_nvidia_cum_h100e",), ("meta_nvidia_cum_h100e",), ("amzn_nvidia_cum_h100e",),
          ("googl_nvidia_cum_h100e",), ("orcl_nvidia_cum_h100e",), ("tpu_cum_h100e",),
          ("trainium_cum_h100e",), ("xai_nvidia_cum_h100e",)),
         "us_add", total=True, aggregate="flow_from_cum", sd=0.02, model_sd=0.1,
         factors=("us_epoch_coverage",),
         note="yearly additions of Epoch's US owners (each cumulative series differenced from "
              "its own start; TPU before 2023 and Trainium before 2024 are missing)"),
    Link("nvda_dc_revenue", _one("nvda_dc_revenue_fy_usd_bn"), "us_accel_spend_usd_bn",
         sd=0.02, model_sd=0.2, factors=("nvda_dc_per_us_accel",), year_shift=-1,
         note="Nvidia FY ends in January: FY2025 ~ calendar 2024"),
    Link("chip_prices", _one("nvda_h100_price_usd"), "price_usd_per_h100e",
         chip="NVIDIA H100 SXM5 80GB", sd=0.1, model_sd=0.25,
         note="price per chip = price per H100e x H100e per chip; model_sd: chip premia"),
    Link("a100_price", _one("nvda_a100_price_usd"), "price_usd_per_h100e",
         chip="NVIDIA A100 SXM4 80 GB", sd=0.1, model_sd=0.25),
    Link("gb200_price", _one("nvda_gb200_price_usd"), "price_usd_per_h100e",
         chip="NVIDIA GB200", sd=0.1, model_sd=0.25),
    Link("gb300_price", _one("nvda_gb300_price_usd"), "price_usd_per_h100e",
         chip="NVIDIA GB300 (Blackwell Ultra)", sd=0.1, model_sd=0.25),
    Link("h20_price", _one("nvda_h20_price_usd"), "licensed_price_per_h100e",
         chip="NVIDIA HGX H20", sd=0.1, model_sd=0.25,
         note="the licensed chip's price per H100e is p / allowed_perf"),
    Link("clusters_us", _one("clusters_us_h100e"), "us_h100e", aggregate="stock",
         sd=0.1, model_sd=0.3, factors=("clusters_us_coverage",)),
    Link("caict_2025_us", _one("seed_caict_us_eflops"), "us_h100e", aggregate="stock",
         sd=0.1, model_sd=0.3, factors=("caict_2025_eflops_per_h100e",)),
    Link("google_compute", _one("seed_google_ai_compute_h100e"), "us_h100e",
         aggregate="stock", sd=0.1, model_sd=0.3, year_shift=-1, bound="lower",
         note="Google's compute (2026 article, end-2025 stock) is part of the US stock"),
    Link("us_share_high_end", _one("seed_us_share_global_high_end_gpus"), "us_share_stock",
         aggregate="stock", transform="share", sd=0.03, model_sd=0.05, year_shift=-1,
         note="'over 70 % of the world's high-end GPUs' implies US/(US+CN) > 0.7, since the "
              "world holds at least US+CN"),
    Link("cn_us_high_end", _one("seed_cn_us_high_end_chip_ratio"), "cn_us_ratio",
         aggregate="stock", sd=0.1, model_sd=0.5, year_shift=-1),
    # --- China: channels ------------------------------------------------------------------
    Link("cn_licensed_epoch", _one("cn_nvidia_licensed_cum_h100e"), "cn_add_licensed",
         aggregate="cum_since", since=2022, sd=0.02, model_sd=0.05),
    Link("cn_smuggled_epoch", _one("cn_nvidia_smuggled_cum_h100e"), "cn_add_leakage",
         aggregate="cum_since", since=2024, sd=0.02, model_sd=0.05),
    Link("cn_huawei_epoch", _one("cn_huawei_cum_h100e"), "cn_add_domestic",
         aggregate="cum_since", since=2024, sd=0.1, model_sd=0.1,
         factors=("huawei_share_domestic",)),
    Link("cn_cambricon_epoch", _one("cn_cambricon_cum_h100e"), "cn_add_domestic",
         aggregate="cum_since", since=2024, sd=0.02, model_sd=0.05,
         factors=("cambricon_share_domestic",)),
    Link("nvda_china_revenue", _one("nvda_china_revenue_fy_usd_bn"), "cn_licensed_spend_usd_bn",
         sd=0.02, model_sd=0.15, factors=("nvda_cn_per_licensed_spend",), year_shift=-1,
         first_year=2023,
         note="before FY2024 (calendar 2023) China revenue is mostly gaming and mining cards"),
    Link("huawei_units", _one("huawei_ascend_output_units_ft",
                              "huawei_ascend_output_units_semianalysis",
                              "cn_accel_cards_huawei_units_idc"),
         "cn_add_domestic", sd=0.1, model_sd=0.15, factors=("huawei_share_domestic",),
         scale=1.0 / HUAWEI_H100E_PER_CHIP),
    Link("domestic_units", _one("cn_accel_cards_domestic_units_idc",
                                "cn_domestic_ai_chips_units_bernstein"),
         "cn_add_domestic", sd=0.1, model_sd=0.2, factors=("domestic_units_per_h100e",)),
    Link("cn_domestic_share", _one("cn_domestic_share_accel_units_idc",
                                   "cn_domestic_share_ai_chips_bernstein"),
         "cn_domestic_share_add", transform="share", sd=0.04, model_sd=0.08,
         note="unit and revenue shares read as shares of H100e added (model_sd)"),
    Link("cn_foreign_share", _one("seed_cn_ai_server_foreign_chip_share"),
         "cn_foreign_share_add", transform="share", sd=0.04, model_sd=0.08),
    Link("nvda_cn_share", _one("nvda_share_cn_ai_accel_huang", "nvda_share_cn_ai_accel_bernstein",
                               "nvda_share_cn_accel_units_idc",
                               "seed_nvda_cn_ai_chip_market_share"),
         "cn_foreign_share_add", transform="share", sd=0.04, model_sd=0.08,
         factors=("nvidia_share_of_foreign",)),
    Link("domestic_yield", _one("huawei_910c_yield", "huawei_910b_yield",
                                "seed_cn_ai_chip_yield"),
         "domestic_yield", transform="share", sd=0.04, model_sd=0.1),
    Link("cnas_smuggled_units", _one("cn_smuggled_chips_units_cnas"), "cn_add_leakage",
         sd=0.1, model_sd=0.2, factors=("smuggled_units_per_h100e",)),
    Link("cnas_cloud_front", _one("cn_smuggled_cloud_front_units_cnas"), "cn_add_leakage",
         sd=0.1, model_sd=0.2, factors=("smuggled_units_per_h100e",), bound="lower",
         note="one smuggling pathway (cloud-provider fronts): a lower bound on all leakage"),
    Link("cnas_smuggled_share", _one("cn_smuggled_share_inference_compute_cnas",
                                     "cn_smuggled_share_training_compute_cnas"),
         "cn_leakage_share_stock", aggregate="stock", transform="share", sd=0.03,
         model_sd=0.05),
    Link("caict_cn_infra", _one("caict_cn_compute_eflops"), "cn_h100e", aggregate="stock",
         sd=0.05, model_sd=0.3, factors=("caict_infra_eflops_per_h100e",)),
    Link("caict_2025_cn", _one("seed_caict_cn_eflops"), "cn_h100e", aggregate="stock",
         sd=0.1, model_sd=0.3, factors=("caict_2025_eflops_per_h100e",)),
    Link("clusters_cn", _one("clusters_cn_h100e"), "cn_h100e", aggregate="stock",
         sd=0.1, model_sd=0.3, factors=("clusters_cn_coverage",)),
    Link("cn_market", _one("cn_ai_accel_market_usd_bn_bernstein",
                           "seed_bernstein_cn_ai_chip_demand_usd_bn"),
         "cn_accel_spend_usd_bn", sd=0.1, model_sd=0.3,
         note="Bernstein's market size and 'demand' read as what China spent on accelerators"),
    Link("idc_server_market", _one("cn_accel_server_market_usd_bn_idc"), "cn_accel_spend_usd_bn",
         sd=0.05, model_sd=0.2, factors=("idc_server_per_spend",)),
    Link("cn_domestic_revenue", _one("seed_cn_ai_chip_revenue_usd_bn"),
         "cn_domestic_spend_usd_bn", sd=0.1, model_sd=0.4),
    Link("bernstein_cn_added", _one("compute_added_cn_eflops_bernstein"), "cn_add",
         sd=0.1, model_sd=0.5, scale=EFLOPS_FP16_SPARSE_PER_H100E,
         note="'below 1 ZFLOPS' (FP16 sparse) added in 2025"),
)  # fmt: skip

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
    "reported": 1.0,  # filings and publishers' own figures
    "secondary": 1.5,  # press summaries: rounding, definitions drift
    "estimate": 2.0,  # modelled or analyst estimates without stated intervals
    "unconfirmed": 3.0,  # not checked against the primary source
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

    start_year: int = 2015
    ref_year: int = 2023
    pre_sample_growth: float = 1.35
    interval_z: float = 1.645
    hbm_cap_free: float = 1e9
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
    domestic_dies_per_chip: int = 2

    def key(self) -> str:
        """SHA-256 of the configuration (stable across runs and dict orderings)."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def series_ids(self) -> list[str]:
        """Every series id the model reads, in link order."""
        return [sid for link in self.links for comp in link.series for sid in comp]


def _update(obj: object, changes: dict, where: str) -> object:
    """``dataclasses.replace`` with a clear error for unknown field names."""
    known = {f.name for f in fields(obj)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ModelError(f"unknown field(s) {unknown} in {where}; valid: {sorted(known)}")
    return replace(obj, **changes)


def _merge_named(base: dict[str, Prior], changes: dict, where: str) -> dict[str, Prior]:
    unknown = sorted(set(changes) - set(base))
    if unknown:
        raise ModelError(f"unknown name(s) {unknown} in {where}; valid: {sorted(base)}")
    return {
        name: _update(prior, changes[name], f"{where}[{name!r}]") if name in changes else prior
        for name, prior in base.items()
    }


def model_config(overrides: dict | None = None) -> ModelConfig:
    """The default configuration with user overrides merged in.

    Parameters
    ----------
    overrides : dict, optional
        Top-level fields of :class:`ModelConfig`; ``priors``, ``factors`` and ``world`` take
        ``{name: {field: value}}`` and update only the fields given, e.g.
        ``{"priors": {"retirement": {"a": 0.25}}, "start_year": 2016}``.

    Returns
    -------
    ModelConfig

    Raises
    ------
    ModelError
        For unknown names or fields.
    """
    config = ModelConfig()
    changes = dict(overrides or {})
    for name in ("priors", "factors", "world"):
        if name in changes:
            changes[name] = _merge_named(getattr(config, name), changes[name], name)
    return _update(config, changes, "model configuration")
