"""The explorer's logic, without a web framework: lever settings -> scenario -> projection.

A :class:`Desk` holds the cached posterior (no refit) and projects the status quo and the
scenario being edited on the same paired draws: fewer draws while a control is dragged, all
on release. Scenarios are built with :func:`forecast.scenario_from_dict`, so a value typed
out of range gets the command line's message, and saved as TOML that
:func:`forecast.load_scenario` reads back before the file is written (atomically; an
existing file only when the user confirmed).
"""

from __future__ import annotations

import json
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast.attribution import MAX_LEVERS, attribute, differing_levers
from forecast.engine import GROWTH_LEVERS, LEVEL_LEVERS
from forecast.errors import OutputError, Problem, ScenarioError
from forecast.evaluation import prepare
from forecast.io import write_atomic
from forecast.projection import Projection, project
from forecast.quantiles import BAND, MEDIAN
from forecast.scenarios import LEVERS, Scenario, list_scenarios, load_scenario, scenario_from_dict
from forecast.text import child_path

#: The reference every setting is compared with (attribution, paired differences).
STATUS_QUO = "status_quo"
#: Draws projected while a control is dragged (all draws on release).
DRAG_DRAWS = 1000
#: Quantiles of the fans: the 90 % interval and the median.
FAN_QUANTILES = (BAND[0], MEDIAN, BAND[1])


@dataclass(frozen=True)
class LeverSetting:
    """One lever as the explorer sets it: a constant, or a ramp from the start year.

    Attributes
    ----------
    start_value : float
        Value from the scenario's start year.
    end_value : float or None
        Value reached at ``ramp_year`` (None: the lever stays at ``start_value``).
    ramp_year : int or None
        Year the ramp ends; flat after it.
    """

    start_value: float
    end_value: float | None = None
    ramp_year: int | None = None

    def raw(self, start_year: int) -> float | list[list[float]]:
        """The TOML value: a number, or a path ``[[start_year, start], [ramp_year, end]]``."""
        if self.end_value is None or self.ramp_year is None:
            return float(self.start_value)
        if self.ramp_year <= start_year:
            raise ScenarioError(
                f"ramp year {self.ramp_year} must come after the start year {start_year}"
            )
        return [[start_year, float(self.start_value)], [self.ramp_year, float(self.end_value)]]


def scenario_fields(
    base: Scenario,
    name: str,
    description: str,
    settings: dict[str, LeverSetting],
    rationale: str = "",
) -> dict:
    """The fields of the edited scenario: ``base`` extended with ``settings``.

    Parameters
    ----------
    base : Scenario
        The scenario picked (the new one ``extends`` it).
    name, description : str
    settings : dict of str to LeverSetting
        Only the levers the user set; the others follow ``base``.
    rationale : str
        Why: recorded for every lever set.

    Returns
    -------
    dict
        ``name, description, extends, levers, rationale``, as a scenario file holds them.

    Raises
    ------
    ScenarioError
        For a name equal to the base's (it would extend itself) or a ramp ending too early.
    """
    if name.strip() == base.name:
        raise ScenarioError(f"name the new scenario: {name!r} is the scenario it extends")
    unknown = sorted(set(settings) - set(LEVERS))
    if unknown:
        raise ScenarioError(f"unknown lever {unknown[0]!r} (known: {', '.join(LEVERS)})")
    levers = {lever: settings[lever].raw(base.start) for lever in sorted(settings)}
    reasons = {lever: rationale for lever in levers} if rationale.strip() else {}
    return {"name": name, "description": description, "extends": base.name,
            "levers": levers, "rationale": reasons}  # fmt: skip


def resolve(fields: dict, directory: str | Path | None) -> Scenario:
    """The scenario of ``fields``; ``extends`` names a file of ``directory`` or, failing
    that, of the library (as a saved file's ``extends`` resolves).

    Raises
    ------
    ScenarioError
        Every problem of the fields, as for a scenario file.
    """
    parent = fields.get("extends")
    local = directory is not None and isinstance(parent, str) and parent.strip() != ""
    local = local and (Path(directory) / f"{parent}.toml").is_file()
    return scenario_from_dict(fields, directory if local else None)


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes, plus DEL (which TOML forbids raw)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, int) else repr(float(value))


def _key(name: str) -> str:
    """A bare key if ``name`` is one, else a quoted key."""
    bare = name and all((c.isalnum() and c.isascii()) or c in "_-" for c in name)
    return name if bare else _toml_string(name)


def scenario_toml(fields: dict) -> str:
    """A scenario file's text from its fields (see :func:`scenario_fields`)."""
    lines = [f"{key} = {_toml_value(fields[key])}"
             for key in ("name", "description", "extends", "start") if key in fields]  # fmt: skip
    for table in ("levers", "rationale"):
        lines += ["", f"[{table}]"]
        lines += [f"{_key(k)} = {_toml_value(v)}" for k, v in fields.get(table, {}).items()]
    return "\n".join(lines) + "\n"


def save_scenario(fields: dict, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``fields`` as ``DIRECTORY/<name>.toml``, validated, atomically.

    The text is parsed back and resolved (``extends`` against ``directory``, then the
    library) before anything is written; the written file is loaded once more.

    Parameters
    ----------
    fields : dict
        As :func:`scenario_fields` makes them.
    directory : str or pathlib.Path
        The user's scenario directory (created if missing).
    overwrite : bool
        Replace an existing file (only once the user confirmed).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ScenarioError
        For fields that do not make a valid scenario.
    OutputError
        If the file exists and ``overwrite`` is false, or the path leaves ``directory``.
    """
    directory = Path(directory)
    text = scenario_toml(fields)
    resolve(tomllib.loads(text), directory)  # every problem, before writing
    path = child_path(directory, str(fields["name"])).with_suffix(".toml")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists; confirm to replace it, or choose another name")
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    load_scenario(path, directory)
    return path


def scenario_choices(directory: str | Path | None) -> tuple[list[Scenario], list[Problem]]:
    """The library's scenarios and the valid files of ``directory``; problems of the others.

    A user file of a library scenario's name takes its place.
    """
    found = {s.name: s for s in list_scenarios()}
    problems: list[Problem] = []
    folder = Path(directory) if directory is not None else None
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            try:
                scenario = load_scenario(path, folder)
            except ScenarioError as err:
                problems += err.problems
                continue
            found[scenario.name] = scenario
    return sorted(found.values(), key=lambda s: s.name), problems


class Desk:
    """The posterior and the settings of one explorer session.

    Parameters
    ----------
    fit : Fit or ProjectionInputs
        The cached posterior.
    seed : int
        Seed of every projection (paired draws).
    horizon : int
        Last projected year.
    draws : int, optional
        Draws projected on release (default: all the posterior holds).
    drag_draws : int
        Draws projected while dragging (at most ``draws``).
    dataset : Dataset, optional
        The data the posterior was fitted to (for the provenance of downloads).
    """

    def __init__(
        self,
        fit: object,
        *,
        dataset: object = None,
        seed: int = 0,
        horizon: int = 2035,
        draws: int | None = None,
        drag_draws: int = DRAG_DRAWS,
    ) -> None:
        self.fit = fit
        self.dataset = dataset
        self.seed = seed
        self.horizon = horizon
        self.draws = draws
        self.drag_draws = drag_draws
        self.status_quo = load_scenario(STATUS_QUO)
        self._posterior: dict[int, dict[str, float]] = {}

    def project(self, scenario: Scenario, *, dragging: bool = False) -> Projection:
        """The status quo and ``scenario`` on the same draws (fewer while dragging)."""
        draws = self.draws
        if dragging:
            full = self.draws if self.draws is not None else self._n_draws()
            draws = min(self.drag_draws, full)
        return project(self.fit, [self.status_quo, scenario], horizon=self.horizon,
                       draws=draws, seed=self.seed)  # fmt: skip

    def posterior_values(self, start: int) -> dict[str, float]:
        """Each lever's value in the posterior's own world in ``start`` (median over draws,
        3 significant digits, within the lever's range): a level lever's driver, a growth
        lever's growth into that year. Where a control starts for a lever the base
        scenario leaves to the posterior."""
        if start not in self._posterior:
            world = prepare(self.fit, self.horizon, self.seed).world
            col = int(np.clip(np.searchsorted(world.years, start), 1, len(world.years) - 1))
            self._posterior[start] = {
                lever: _rounded(lever, _driver_value(world, lever, col)) for lever in LEVERS
            }
        return self._posterior[start]

    def _n_draws(self) -> int:
        """How many draws the posterior holds (counted once)."""
        if not hasattr(self, "_total"):
            self._total = prepare(self.fit, self.horizon, self.seed).n_draws
        return self._total


def _driver_value(world: object, lever: str, col: int) -> float:
    """Median over draws of what ``lever`` sets, in the lever's terms, in year ``col``."""
    if lever in LEVEL_LEVERS:
        values = world.drivers[LEVEL_LEVERS[lever]][:, col]
        values = values - 1.0 if lever == "smuggling_premium" else values  # driver: 1 + premium
    else:  # a limit exists from the first projected year: its first growth may come later
        path = world.drivers[GROWTH_LEVERS[lever]]
        for c in range(col, min(col + 3, path.shape[1])):
            with np.errstate(all="ignore"):
                values = path[:, c] / path[:, c - 1] - 1.0
            if np.mean(np.isfinite(values) & np.isfinite(path[:, c - 1])) > 0.5:
                break
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else LEVERS[lever].low


def _rounded(lever: str, value: float) -> float:
    """``value`` within the lever's range, to 3 significant digits."""
    bounds = LEVERS[lever]
    return float(f"{min(max(value, bounds.low), bounds.high):.3g}")


def fan(projection: Projection, metric: str, name: str) -> np.ndarray:
    """The 5 %, 50 % and 95 % quantiles of a metric over draws: shape ``(3, year)``.

    ``years_behind`` leaves censored draws out, as :meth:`Projection.summary` does.
    """
    values = projection.uncensored(metric)[projection.names.index(name)]
    with warnings.catch_warnings():  # a year where every draw is censored: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, FAN_QUANTILES, axis=0)


def probability_statements(
    projection: Projection, name: str, year: int = 2030, threshold: float = 10.0
) -> list[str]:
    """The sentences analysts quote, e.g. ``P(ratio in 2030 > 10) = 0.83``.

    For the status quo and ``name``: the chance the US/China ratio exceeds ``threshold``
    in ``year``; and on paired draws, the chance ``name``'s ratio exceeds the status quo's.
    """
    if year not in projection.years:
        raise ScenarioError(f"year {year} is outside {projection.years[0]}..{projection.years[-1]}")
    col = int(np.searchsorted(projection.years, year))
    ratio = projection.values["ratio_us_cn"][:, :, col]
    lines = [
        f"{scenario}: P(ratio in {year} > {threshold:g}) = {np.mean(ratio[i] > threshold):.2f}"
        for i, scenario in enumerate(projection.names)
    ]
    i = projection.names.index(name)
    paired = np.mean(ratio[i] > ratio[0])
    lines.append(f"P(ratio in {year} under {name} > under {STATUS_QUO}) = {paired:.2f}")
    return lines


def attribution_table(projection: Projection, name: str, year: int = 2030) -> object:
    """:func:`forecast.attribute` of ``name`` against the status quo, or None when the
    settings match it or differ in more than :data:`MAX_LEVERS` levers."""
    levers = differing_levers(projection.scenarios[1], projection.scenarios[0])
    if not levers or len(levers) > MAX_LEVERS:
        return None
    return attribute(projection, name, base=STATUS_QUO, year=year)
