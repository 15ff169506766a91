"""Sweep files: which levers to vary over which ranges, the outcomes and discovery conditions.

A sweep (``scenarios/sweeps/NAME.toml``) fixes a base scenario, varies some of its levers
uniformly over ranges, and names outcomes (``"ratio_us_cn in 2030"``) and conditions
(``"cn_share >= 0.4 in 2030"``) over those outcomes::

    name = "default"
    description = "Which assumptions matter for the gap?"
    base = "status_quo"            # a library name, or a .toml path relative to this file
    start = 2026                   # optional: the base scenario's start by default
    horizon = 2035                 # optional: last projected year (default 2035)
    outcomes = ["ratio_us_cn in 2030", "cn_share in 2030"]
    conditions = ["cn_share >= 0.4 in 2030"]
    [levers]
    leakage = [0.05, 0.7]          # [low, high] within the lever's valid range, or
    # leakage = { dist = "uniform", lower = 0.05, upper = 0.7 }
    [rationale]
    leakage = "why this range, with source ids"

Lever names, units and valid ranges come from :data:`forecast.scenarios.LEVERS`, and values
are checked by the scenario parser, so a sweep accepts exactly the values a scenario would.
Each range is a uniform :class:`~forecast.priors.Prior`.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecast.errors import Problem, ScenarioError
from forecast.metrics import METRICS
from forecast.priors import Prior
from forecast.scenarios import (
    LEVERS,
    LeverValue,
    Scenario,
    lever_value,
    load_scenario,
    rationale_problems,
    read_toml,
    text_problems,
    year_problem,
)

DEFAULT_BASE = "status_quo"
DEFAULT_HORIZON = 2035
_TOP_KEYS = {
    "name", "description", "base", "start", "horizon", "levers", "outcomes", "conditions",
    "rationale",
}  # fmt: skip
_OUTCOME = re.compile(r"^\s*(\w+)\s+in\s+(\d{4})\s*$")
_CONDITION = re.compile(
    r"^\s*(\w+)\s*(>=|<=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s+in\s+(\d{4})\s*$"
)
_OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Outcome:
    """A gap metric in one year, e.g. ``ratio_us_cn`` in 2030 (named ``ratio_us_cn_2030``)."""

    metric: str
    year: int

    @property
    def name(self) -> str:
        """Column name: ``METRIC_YEAR``."""
        return f"{self.metric}_{self.year}"


@dataclass(frozen=True)
class Condition:
    """A threshold on an outcome, e.g. ``cn_share >= 0.4 in 2030``.

    A sample is a case of interest when its posterior median meets the threshold, that is,
    when the condition is more likely than not.
    """

    text: str
    outcome: Outcome
    op: str
    value: float

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: where ``values`` (posterior medians of the outcome) meet it."""
        return _OPERATORS[self.op](np.asarray(values), self.value)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep.

    Attributes
    ----------
    name, description : str
    base : Scenario
        The fixed scenario whose levers the samples override.
    start : int
        Year from which every sample's levers act.
    horizon : int
        Last projected year.
    levers : dict of str to Prior
        Swept levers and their uniform distributions over ``[lower, upper]``, in file order.
    outcomes : tuple of Outcome
    conditions : tuple of Condition
    rationale : dict of str to str
    path : pathlib.Path or None
        The sweep file (None when built from a dict).
    """

    name: str
    description: str
    base: Scenario
    start: int
    horizon: int
    levers: dict[str, Prior]
    outcomes: tuple[Outcome, ...]
    conditions: tuple[Condition, ...] = ()
    rationale: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def ranges(self) -> dict[str, list[float]]:
        """Each swept lever's ``[lower, upper]``."""
        return {name: [prior["lower"], prior["upper"]] for name, prior in self.levers.items()}

    @property
    def problem(self) -> dict:
        """The SALib problem: lever names and bounds."""
        return {
            "num_vars": len(self.levers),
            "names": list(self.levers),
            "bounds": list(self.ranges.values()),
        }

    @property
    def digest(self) -> str:
        """SHA-256 of everything that changes the results (not the description or rationale)."""
        content = {
            "base": {k: v.describe() for k, v in sorted(self.base.levers.items())},
            "start": self.start,
            "horizon": self.horizon,
            "levers": self.ranges,
            "outcomes": [o.name for o in self.outcomes],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def scenario(self, values: np.ndarray) -> Scenario:
        """The base scenario with the swept levers set to constants ``values``.

        Every sample carries the sweep's name, so lever distributions left in the base
        scenario draw the same values in every sample (paired, like posterior draws): samples
        differ only in the swept levers.
        """
        swept = {
            lever: LeverValue("constant", constant=float(value))
            for lever, value in zip(self.levers, values, strict=True)
        }
        return Scenario(
            self.name, self.description, self.start, {**self.base.levers, **swept},
            {**self.base.rationale, **self.rationale}, self.path, (self.name, *self.base.chain),
        )  # fmt: skip

    def condition(self, text: str) -> Condition:
        """Parse a condition over one of this sweep's outcomes.

        Raises
        ------
        ScenarioError
            For malformed text or an outcome the sweep does not compute.
        """
        parsed, problem = _parse_condition(text, self.outcomes, "condition")
        if problem:
            raise ScenarioError(Problem(_label(self.path, self.name), None, problem))
        return parsed


def _label(path: Path | None, name: str) -> str:
    """How errors name a sweep: its file name, or ``<name>`` when built from a dict."""
    return path.name if path else f"<{name}>"


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _lever_range(raw: object, name: str) -> tuple[Prior | None, list[str]]:
    """A swept lever's range: ``[low, high]`` or a uniform ``{dist = "uniform", ...}``."""
    where = f"levers.{name}"
    if name not in LEVERS:
        return None, [f"{where}: unknown lever (known: {', '.join(LEVERS)})"]
    if isinstance(raw, dict):
        return _uniform(raw, LEVERS[name], where)
    if not (isinstance(raw, list) and len(raw) == 2 and all(map(_is_number, raw))):
        return None, [f"{where}: expected a range [low, high], got {raw!r}"]
    problems = [
        message
        for i, bound in enumerate(raw)
        for message in lever_value(bound, LEVERS[name], f"{where}[{i}]")[1]
    ]
    if raw[0] >= raw[1]:
        problems.append(f"{where}: low {raw[0]:g} must be below high {raw[1]:g}")
    return (None if problems else Prior("uniform", lower=raw[0], upper=raw[1])), problems


def _uniform(raw: dict, lever, where: str) -> tuple[Prior | None, list[str]]:
    if raw.get("dist") != "uniform":
        return None, [
            f"{where}: a sweep varies a lever uniformly: write [low, high] or "
            f'{{ dist = "uniform", lower = ..., upper = ... }}, got {raw!r}'
        ]
    value, problems = lever_value(raw, lever, where)
    if value is not None and not value.prior["lower"] < value.prior["upper"]:
        problems.append(f"{where}: lower {value.prior['lower']:g} must be below upper "
                        f"{value.prior['upper']:g}")  # fmt: skip
    return (None if problems else value.prior), problems


def _parse_outcome(raw: object, where: str) -> tuple[Outcome | None, str | None]:
    match = _OUTCOME.match(raw) if isinstance(raw, str) else None
    if match is None:
        return None, f"{where}: expected 'METRIC in YEAR', got {raw!r}"
    if match[1] not in METRICS:
        return None, f"{where}: unknown metric {match[1]!r} (known: {', '.join(METRICS)})"
    return Outcome(match[1], int(match[2])), None


def _parse_condition(
    raw: object, outcomes: tuple[Outcome, ...], where: str
) -> tuple[Condition | None, str | None]:
    match = _CONDITION.match(raw) if isinstance(raw, str) else None
    if match is None:
        return None, f"{where}: expected 'METRIC OP VALUE in YEAR' (OP: >=, <=, >, <), got {raw!r}"
    outcome = Outcome(match[1], int(match[4]))
    if outcome not in outcomes:
        return None, f"{where}: {match[1]} in {match[4]} is not one of the sweep's outcomes"
    return Condition(raw.strip(), outcome, match[2], float(match[3])), None


def _parse_list(raw: dict, key: str, parse) -> tuple[list, list[str]]:
    items = raw.get(key, [])
    if not isinstance(items, list):
        return [], [f"field {key!r} must be a list of text"]
    parsed, problems = [], []
    for i, item in enumerate(items):
        value, problem = parse(item, f"{key}[{i}]")
        if problem:
            problems.append(problem)
        elif value in parsed:
            problems.append(f"{key}[{i}]: {item!r} is listed twice")
        else:
            parsed.append(value)
    return parsed, problems


def _load_base(raw: dict, directory: Path) -> tuple[Scenario | None, list[str]]:
    base = raw.get("base", DEFAULT_BASE)
    if not isinstance(base, str):
        return None, [f"field 'base' must be a scenario name or path, got {base!r}"]
    target = directory / base if base.endswith(".toml") else base
    try:
        return load_scenario(target), []
    except ScenarioError as err:
        return None, [f"field 'base': {problem}" for problem in err.problems]


def _check_fields(raw: dict) -> list[str]:
    problems = [
        f"unknown field {key!r} (known: {', '.join(sorted(_TOP_KEYS))})"
        for key in sorted(set(raw) - _TOP_KEYS)
    ]
    problems += text_problems(raw)
    return problems + list(filter(None, (year_problem(raw, k) for k in ("start", "horizon"))))


def _parse_levers(raw: dict) -> tuple[dict[str, Prior], list[str]]:
    table = raw.get("levers")
    if not isinstance(table, dict) or not table:
        return {}, ["[levers] must be a table naming at least one lever and its range"]
    levers, problems = {}, []
    for name, value in table.items():
        bounds, found = _lever_range(value, name)
        problems += found
        if bounds is not None and not found:
            levers[name] = bounds
    return levers, problems


def _parse_rationale(raw: dict) -> tuple[dict[str, str], list[str]]:
    rationale = raw.get("rationale", {})
    found = rationale_problems(rationale)
    if found:
        return {}, found
    swept = raw.get("levers") if isinstance(raw.get("levers"), dict) else {}
    return rationale, [
        f"rationale.{name}: not a swept lever" for name in sorted(set(rationale) - set(swept))
    ]


def sweep_from_dict(raw: dict, path: str | Path | None = None) -> SweepSpec:
    """Validate the fields of a sweep (as read from TOML) and build it.

    Parameters
    ----------
    raw : dict
        The fields of a sweep file (see the module docstring).
    path : str or pathlib.Path, optional
        The file the fields came from: named in errors; a ``base`` path is relative to it.

    Raises
    ------
    ScenarioError
        Listing every problem, naming the file and the field.
    """
    if not isinstance(raw, dict):
        raise ScenarioError(f"a sweep is a dict of fields, got {type(raw).__name__}")
    path = Path(path) if path is not None else None
    label = _label(path, raw.get("name", "sweep"))
    problems = _check_fields(raw)
    levers, found = _parse_levers(raw)
    problems += found
    outcomes, found = _parse_list(raw, "outcomes", _parse_outcome)
    problems += found or ([] if outcomes else ["field 'outcomes' must name at least one"])
    outcomes = tuple(outcomes)
    conditions, found = _parse_list(
        raw, "conditions", lambda item, where: _parse_condition(item, outcomes, where)
    )
    problems += found
    rationale, found = _parse_rationale(raw)
    problems += found
    base, found = _load_base(raw, path.parent if path else Path.cwd())
    problems += found
    start = raw["start"] if raw.get("start") is not None else (base.start if base else None)
    horizon = raw["horizon"] if raw.get("horizon") is not None else DEFAULT_HORIZON
    if not problems:
        problems += [
            f"outcomes: {o.metric} in {o.year} is outside the years {start}..{horizon}"
            for o in outcomes
            if not start <= o.year <= horizon
        ]
    if problems:
        raise ScenarioError([Problem(label, None, message) for message in problems])
    return SweepSpec(
        raw["name"], raw["description"], base, start, horizon, levers, outcomes,
        tuple(conditions), dict(rationale), path,
    )  # fmt: skip


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.toml`` sweep file.

    Returns
    -------
    SweepSpec

    Raises
    ------
    ScenarioError
        Naming the file and the field: unknown lever or metric, a range outside the lever's
        valid range or with low >= high, malformed outcomes or conditions, a condition over an
        outcome the sweep does not compute, an invalid base scenario.
    """
    if not isinstance(path, str | Path) or not str(path).strip():
        raise ScenarioError(f"a sweep file is a path, got {path!r}")
    path = Path(path)
    return sweep_from_dict(read_toml(path), path)
