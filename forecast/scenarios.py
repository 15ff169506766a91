"""Scenario files: levers over the projection, read from TOML and validated.

A scenario names levers (see :data:`LEVERS`) and their values from a start year. A lever value
is a constant, a path of ``[year, value]`` points (linear in between, flat beyond the ends),
or a distribution whose draws are paired with posterior draws. ``extends`` inherits the levers
of another scenario of the same directory (or the shipped library) and overrides some.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecast import bounds
from forecast.errors import Problem, ScenarioError
from forecast.paths import shipped_dir
from forecast.priors import DeprecatedFormWarning, Prior
from forecast.text import visible


@dataclass(frozen=True)
class Lever:
    """A policy or world lever: which model term it sets, its unit and valid range."""

    name: str
    unit: str
    low: float
    high: float
    term: str


#: Every lever, its unit, valid range and the stock-flow term it sets (DESIGN.md).
LEVERS: dict[str, Lever] = {
    lever.name: lever
    for lever in [
        Lever("licensed_share", "fraction", 0.0, 1.0,
              "share of China's foreign-accelerator demand that may be bought under licence"),
        Lever("allowed_perf", "fraction", 0.0, 1.0,
              "H100e per dollar of the licensed chip relative to that year's frontier chip, "
              "in the start year; a fixed chip then falls behind the frontier"),
        Lever("leakage", "fraction", 0.0, 1.0,
              "share of restricted demand that arrives anyway (smuggling, offshore access)"),
        Lever("domestic_growth", "growth rate per year", -0.9, 3.0,
              "growth of China's domestic accelerator output before yield (0.3 = +30 %/yr)"),
        Lever("domestic_push", "multiplier", 0.0, 3.0,
              "how much of the export controls' push to China's domestic output growth (the "
              "fitted Oct 2022 and Dec 2024 shifts) acts from the start year: 1 as fitted, "
              "0 none; a scenario that sets domestic_growth sets the growth outright"),
        Lever("domestic_yield", "fraction", 0.01, 1.0,
              "good dies per die started for domestic accelerators"),
        Lever("hbm_cap", "H100e per year", 0.0, 1e9,
              "most domestic H100e per year that the HBM supply allows"),
        Lever("us_capex_growth", "growth rate per year", -0.9, 2.0,
              "growth of AI-relevant US hyperscaler capex"),
        Lever("cn_capex_growth", "growth rate per year", -0.9, 2.0,
              "growth of Chinese buyers' spending on foreign accelerators absent controls"),
        Lever("utilization", "fraction", 0.05, 1.0,
              "share of China's installed compute in productive use (effective compute "
              "only; installed stocks are stocks)"),
        Lever("enforcement", "fraction", 0.0, 1.0,
              "share of smuggling capacity removed by enforcement beyond the cut-off's "
              "(chip registries, location verification, prosecutions; 0 = as at the cut-off)"),
        Lever("smuggling_capacity_growth", "growth rate per year", -0.9, 2.0,
              "growth of the H100e the smuggling networks can move per year, from the first "
              "projected year"),
        Lever("smuggling_premium", "fraction over list price", 0.0, 5.0,
              "price premium of smuggled chips over the US list price (0.5 = +50 %)"),
        Lever("substitution", "fraction", 0.0, 1.0,
              "share of China's unserved restricted demand (USD) that turns to domestic chips"),
        Lever("cn_import_restriction", "fraction", 0.0, 1.0,
              "share of licensed purchases China's own rules block beyond the cut-off's "
              "(customs holds, guidance to buy domestic)"),
        Lever("us_power_gw_growth", "growth rate per year", -0.5, 1.0,
              "growth of the GW available to US AI data centres (the power envelope), from "
              "the first projected year"),
        Lever("packaging_supply_growth", "growth rate per year", -0.5, 1.5,
              "growth of the world's accelerator output in H100e (advanced packaging and HBM "
              "capacity, with more H100e per wafer), from the first projected year"),
        Lever("cn_wafer_capacity_growth", "growth rate per year", -0.5, 1.5,
              "growth of China's advanced-node wafer capacity, from the first projected year"),
        Lever("cn_hbm_output", "HBM stacks per year", 0.0, 1e9,
              "HBM stacks China's own fabs (CXMT) produce per year"),
    ]
}  # fmt: skip

#: Scenario files written before :class:`~forecast.priors.Prior`: a distribution's old
#: parameter names and their names now (``beta``'s ``a, b`` were its shape parameters).
OLD_FORMS: dict[str, dict[str, str]] = {
    "uniform": {"low": "lower", "high": "upper"},
    "triangular": {"low": "lower", "mode": "mode", "high": "upper"},
    "beta": {"a": "alpha", "b": "beta"},
}
_TOP_KEYS = {"name", "description", "extends", "start", "levers", "rationale"}


@dataclass(frozen=True)
class LeverValue:
    """One lever's value: a constant, a path of (year, value) points, or a distribution.

    Attributes
    ----------
    kind : str
        ``"constant"``, ``"path"`` or ``"dist"``.
    constant : float or None
    points : tuple of (int, float)
        For a path, strictly increasing years.
    prior : Prior or None
        The distribution for ``kind == "dist"``.
    """

    kind: str
    constant: float | None = None
    points: tuple[tuple[int, float], ...] = ()
    prior: Prior | None = None

    @property
    def dist(self) -> str | None:
        """The distribution's name (None for a constant or a path)."""
        return self.prior.dist if self.prior is not None else None

    def evaluate(
        self, years: np.ndarray, n_draws: int, rng: np.random.Generator | None
    ) -> np.ndarray:
        """Values over (draw, year); distributions draw one value per posterior draw.

        Parameters
        ----------
        years : numpy.ndarray
            Years to evaluate (int).
        n_draws : int
            Number of posterior draws the values are paired with.
        rng : numpy.random.Generator or None
            Used only by distributions (may be None for constants and paths).

        Returns
        -------
        numpy.ndarray
            Shape ``(n_draws, len(years))``.
        """
        shape = (n_draws, len(years))
        if self.kind == "constant":
            return np.full(shape, float(self.constant))
        if self.kind == "path":
            xs, ys = zip(*self.points, strict=True)
            return np.broadcast_to(np.interp(years, xs, ys), shape).copy()
        return np.broadcast_to(self.prior.sample(rng, n_draws)[:, None], shape).copy()

    def describe(self) -> str:
        """Short human-readable text, e.g. ``0.05`` or ``2026: 0.2 -> 2028: 0``."""
        if self.kind == "constant":
            return f"{self.constant:g}"
        if self.kind == "path":
            return " -> ".join(f"{year}: {value:g}" for year, value in self.points)
        return self.prior.describe()


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario (``extends`` applied).

    Attributes
    ----------
    name, description : str
    start : int
        First year the levers act on (may lie in the past: a counterfactual).
    levers : dict of str to LeverValue
    rationale : dict of str to str
        Why each lever has its value, with source ids.
    path : pathlib.Path or None
        File the scenario was read from (None when built in code).
    chain : tuple of str
        Names from this scenario up its ``extends`` chain.
    """

    name: str
    description: str
    start: int
    levers: dict[str, LeverValue] = field(default_factory=dict)
    rationale: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    chain: tuple[str, ...] = ()

    @property
    def file_hash(self) -> str:
        """SHA-256 of the files along the ``extends`` chain (empty if built in code)."""
        if self.path is None:
            return ""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def lever_value(raw: object, lever: Lever, where: str) -> tuple[LeverValue | None, list[str]]:
    """Parse one lever value as a scenario file writes it.

    Parameters
    ----------
    raw : object
        A number, a path ``[[year, value], ...]`` or a distribution ``{dist = NAME, ...}``
        (:class:`~forecast.priors.Prior`; the old forms of :data:`OLD_FORMS` are read too).
    lever : Lever
        Whose valid range the values must lie in.
    where : str
        The field, named in every message (e.g. ``levers.leakage``).

    Returns
    -------
    (LeverValue or None, list of str)
        The value (None if invalid) and every problem found.
    """
    problems: list[str] = []

    def in_range(x: float, what: str) -> None:
        if not lever.low <= x <= lever.high:
            problems.append(
                f"{where}: {what} {x:g} is outside the valid range "
                f"[{lever.low:g}, {lever.high:g}] ({lever.unit})"
            )

    if isinstance(raw, bool) or raw is None:
        return None, [f"{where}: expected a number, a path or a distribution, got {raw!r}"]
    if isinstance(raw, int | float):
        in_range(float(raw), "value")
        return LeverValue("constant", constant=float(raw)), problems
    if isinstance(raw, list):
        return _path_value(raw, in_range, where, problems)
    if isinstance(raw, dict):
        return _dist_value(new_form(raw)[0], in_range, where, problems)
    return None, [f"{where}: expected a number, a path or a distribution, got {raw!r}"]


def new_form(raw: dict) -> tuple[dict, bool]:
    """A distribution's fields with old parameter names (:data:`OLD_FORMS`) renamed, and
    whether it was in an old form."""
    renames = OLD_FORMS.get(raw.get("dist"), {})
    if not renames or set(raw) - {"dist"} != set(renames):
        return raw, False
    return {renames.get(k, k): v for k, v in raw.items()}, True


def _path_value(raw: list, in_range, where: str, problems: list[str]):
    points = []
    for i, point in enumerate(raw):
        ok = (
            isinstance(point, list)
            and len(point) == 2
            and isinstance(point[0], int)
            and not isinstance(point[0], bool)
            and isinstance(point[1], int | float)
            and not isinstance(point[1], bool)
        )
        if not ok:
            problems.append(f"{where}[{i}]: malformed path point {point!r}; expected [year, value]")
            continue
        in_range(float(point[1]), f"value at {point[0]}")
        points.append((point[0], float(point[1])))
    if not raw:
        problems.append(f"{where}: a path needs at least one [year, value] point")
    years = [year for year, _ in points]
    if any(b <= a for a, b in itertools.pairwise(years)):
        problems.append(f"{where}: path years out of order {years}; they must increase")
    return (LeverValue("path", points=tuple(points)) if not problems else None), problems


def _dist_value(raw: dict, in_range, where: str, problems: list[str]):
    """A distribution whose draws lie in the lever's range: its bounds, or (unbounded) its
    0.1 % and 99.9 % quantiles (the engine clips the rare draws beyond)."""
    prior, found = Prior.parse(raw, where)
    if prior is None:
        return None, found
    low, high = prior.support()
    if np.isfinite(low):
        in_range(low, "lower bound")
    else:
        in_range(prior.quantile(0.001), "0.1 % quantile")
    if np.isfinite(high):
        in_range(high, "upper bound")
    else:
        in_range(prior.quantile(0.999), "99.9 % quantile")
    return (LeverValue("dist", prior=prior) if not problems else None), problems


def read_toml(path: Path) -> dict:
    """The fields of a scenario or sweep file.

    Raises
    ------
    ScenarioError
        If the file is missing, not a file, unreadable, too large
        (:data:`forecast.bounds.SCENARIO_FILE_BYTES`), not UTF-8 or not TOML.
    """
    if not path.is_file():
        what = "is not a file" if path.exists() else "not found"
        raise ScenarioError(Problem(path.name, None, f"scenario file {what}: {path}"))
    too_big = bounds.file_size_problem(path, bounds.SCENARIO_FILE_BYTES)
    if too_big:
        raise ScenarioError(Problem(path.name, None, too_big))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(
            Problem(path.name, None, f"cannot read {path}: {err.strerror}")
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(Problem(path.name, None, "not valid UTF-8")) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(Problem(path.name, None, f"invalid TOML: {err}")) from None


_WARNED: set[str] = set()


def warn_old_forms(label: str, fields: dict[str, dict]) -> None:
    """One :class:`~forecast.priors.DeprecatedFormWarning` per file (``label``) that writes
    distributions in an old form, with each field's new form."""
    if not fields or label in _WARNED:
        return
    _WARNED.add(label)
    lines = "; ".join(f"{where} = {_inline(new)}" for where, new in fields.items())
    warnings.warn(
        f"{label}: old distribution parameter names (still read, to be removed); write {lines}",
        DeprecatedFormWarning,
        stacklevel=3,
    )


def _inline(raw: dict) -> str:
    """A distribution as an inline TOML table (numbers shortened)."""

    def text(value: object) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{value:g}"
        return json.dumps(value) if isinstance(value, str) else repr(value)

    return "{ " + ", ".join(f"{k} = {text(v)}" for k, v in raw.items()) + " }"


def text_problems(raw: dict, keys: tuple[str, ...] = ("name", "description")) -> list[str]:
    """Required text fields: present, not blank, within :mod:`forecast.bounds`; a name
    without control characters (it becomes a file name and a label)."""
    messages = []
    for key in keys:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            messages.append(f"field {key!r} is required and must be text")
            continue
        limit = bounds.NAME_CHARS if key == "name" else bounds.TEXT_CHARS
        if len(value) > limit.high:
            messages.append(f"field {key!r} has {len(value):,} characters; the limit is "
                            f"{limit.high:,} ({limit.what})")  # fmt: skip
        if key == "name" and visible(value) != value:
            messages.append(f"field 'name' {visible(value)!r} has control characters")
    return messages


def rationale_problems(rationale: object) -> list[str]:
    """``[rationale]`` must map names to text within :data:`forecast.bounds.TEXT_CHARS`."""
    if not isinstance(rationale, dict) or not all(isinstance(v, str) for v in rationale.values()):
        return ["[rationale] must map lever names to text"]
    limit = bounds.TEXT_CHARS
    return [
        f"rationale.{name}: {len(text):,} characters; the limit is {limit.high:,}"
        for name, text in rationale.items()
        if len(text) > limit.high
    ]


def year_problem(raw: dict, key: str) -> str | None:
    """Why an optional year field is not valid (None if absent or valid)."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"field {key!r} must be a year (integer), got {value!r}"
    return bounds.YEAR.problem(value, f"field {key!r}")


def _parse(raw: dict, path: Path) -> tuple[dict, list[Problem]]:
    """Check the fields of one file (before ``extends``); return its parts and problems."""
    messages: list[str] = []
    for key in sorted(set(raw) - _TOP_KEYS):
        messages.append(f"unknown field {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    messages += text_problems(raw)
    start = raw.get("start")
    messages += filter(None, [year_problem(raw, "start")])
    extends = raw.get("extends")
    if extends is not None and not isinstance(extends, str):
        messages.append(f"field 'extends' must be a scenario name, got {extends!r}")
    levers: dict[str, LeverValue] = {}
    raw_levers = raw.get("levers", {})
    if not isinstance(raw_levers, dict):
        messages.append("[levers] must be a table")
        raw_levers = {}
    old: dict[str, dict] = {}
    for name, value in raw_levers.items():
        if name not in LEVERS:
            messages.append(f"levers.{name}: unknown lever (known: {', '.join(LEVERS)})")
            continue
        where = f"levers.{name}"
        if isinstance(value, dict) and new_form(value)[1]:
            old[where] = new_form(value)[0]
            where += f" (old form of {_inline(old[where])})"
        parsed, found = lever_value(value, LEVERS[name], where)
        messages += found
        if parsed is not None:
            levers[name] = parsed
    rationale = raw.get("rationale", {})
    found = rationale_problems(rationale)
    messages += found
    rationale = rationale if isinstance(rationale, dict) and not found else {}
    for name in sorted(set(rationale) - set(LEVERS)):
        messages.append(f"rationale.{name}: not a lever")
    parts = {
        "name": raw.get("name"), "description": raw.get("description"), "start": start,
        "extends": extends, "levers": levers, "rationale": dict(rationale),
    }  # fmt: skip
    if not messages:
        warn_old_forms(str(path), old)
    return parts, [Problem(path.name, None, message) for message in messages]


def _directory(value: object) -> Path | None:
    """A scenario directory argument as a Path (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise ScenarioError(f"a scenario directory is a path, got {value!r}")
    return Path(value)


def _locate(name_or_path: str | Path, directory: Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return directory / f"{name_or_path}.toml"


def load_scenario(name_or_path: str | Path, directory: str | Path | None = None) -> Scenario:
    """Load a scenario by name (from ``directory`` or the shipped library) or by path.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A library name such as ``"tighten"``, or a path to a ``.toml`` file.
    directory : str or pathlib.Path, optional
        Where names (and ``extends`` targets) are looked up; default: the file's own directory
        for a path, the shipped ``scenarios/`` for a name. A name not found there is looked up
        in the shipped library.

    Returns
    -------
    Scenario
        With ``extends`` resolved (the child's levers override the parent's).

    Raises
    ------
    ScenarioError
        Naming the file and the field: unknown lever, value out of range, malformed path,
        years out of order, bad distribution, missing ``extends`` target or a cycle.
    """
    if not isinstance(name_or_path, str | Path) or not str(name_or_path).strip():
        raise ScenarioError(f"a scenario is a name or a path, got {name_or_path!r}")
    library = shipped_dir("scenarios")
    base = _directory(directory)
    path = _locate(name_or_path, base or library)
    return _resolve(path, base or path.parent, library, ())


def _resolve(path: Path, directory: Path, library: Path, seen: tuple[str, ...]) -> Scenario:
    parts, problems = _parse(read_toml(path), path)
    if problems:
        raise ScenarioError(problems)
    name = parts["name"]
    if name in seen:
        cycle = " -> ".join([*seen, name])
        raise ScenarioError(Problem(path.name, None, f"field 'extends': cycle {cycle}"))
    if len(seen) >= bounds.EXTENDS_DEPTH.high:
        message = (
            f"field 'extends': the chain is longer than {bounds.EXTENDS_DEPTH.high} scenarios "
            f"({bounds.EXTENDS_DEPTH.what}): {' -> '.join([*seen[:3], '...', name])}"
        )
        raise ScenarioError(Problem(path.name, None, message))
    if parts["extends"] is None:
        if parts["start"] is None:
            raise ScenarioError(Problem(path.name, None, "field 'start' is required"))
        return Scenario(
            name, parts["description"], parts["start"], parts["levers"], parts["rationale"],
            path, (name,),
        )  # fmt: skip
    parent_path = directory / f"{parts['extends']}.toml"
    if not parent_path.is_file():
        parent_path = library / f"{parts['extends']}.toml"
    if not parent_path.is_file():
        message = f"field 'extends': no scenario named {parts['extends']!r} in {directory}"
        raise ScenarioError(Problem(path.name, None, message))
    parent = _resolve(parent_path, directory, library, (*seen, name))
    return Scenario(
        name=name,
        description=parts["description"],
        start=parts["start"] if parts["start"] is not None else parent.start,
        levers={**parent.levers, **parts["levers"]},
        rationale={**parent.rationale, **parts["rationale"]},
        path=path,
        chain=(name, *parent.chain),
    )


def scenario_from_dict(raw: dict, directory: str | Path | None = None) -> Scenario:
    """Build a scenario in code from the same fields as a TOML file.

    Parameters
    ----------
    raw : dict
        ``name``, ``description``, ``start`` (or ``extends``), ``levers``, ``rationale``.
    directory : str or pathlib.Path, optional
        Where an ``extends`` target is looked up (default: the shipped library).
    """
    if not isinstance(raw, dict):
        raise ScenarioError(f"a scenario is a dict of fields, got {type(raw).__name__}")
    library = shipped_dir("scenarios")
    pseudo = Path(f"<{raw.get('name', 'scenario')}>")
    parts, problems = _parse(raw, pseudo)
    if problems:
        raise ScenarioError(problems)
    if parts["extends"] is None:
        if parts["start"] is None:
            raise ScenarioError(Problem(pseudo.name, None, "field 'start' is required"))
        return Scenario(parts["name"], parts["description"], parts["start"], parts["levers"],
                        parts["rationale"], None, (parts["name"],))  # fmt: skip
    parent = load_scenario(parts["extends"], _directory(directory) or library)
    return Scenario(
        parts["name"], parts["description"],
        parts["start"] if parts["start"] is not None else parent.start,
        {**parent.levers, **parts["levers"]}, {**parent.rationale, **parts["rationale"]},
        None, (parts["name"], *parent.chain),
    )  # fmt: skip


def list_scenarios(directory: str | Path | None = None) -> list[Scenario]:
    """Every scenario in a directory (default: the shipped library), sorted by name.

    Raises
    ------
    ScenarioError
        Listing the problems of every invalid file, or if ``directory`` is not a directory.
    """
    folder = _directory(directory) or shipped_dir("scenarios")
    if not folder.is_dir():
        raise ScenarioError(Problem(str(folder), None, "scenario directory does not exist"))
    scenarios, problems = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            scenarios.append(load_scenario(path, folder))
        except ScenarioError as err:
            problems += err.problems
    if problems:
        raise ScenarioError(problems)
    return sorted(scenarios, key=lambda s: s.name)
