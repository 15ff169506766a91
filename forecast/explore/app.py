"""The explorer's web page: a Dash app on a :class:`~forecast.explore.desk.Desk`.

Dash (Plotly's dashboard framework) is used because its callbacks are plain Python functions
of the controls' values (testable without a browser), its sliders report the value while
dragging (``drag_value``) separately from the value on release (``value``), which is exactly
"fewer draws while dragging, all on release", and it serves its JavaScript from the
installed package (no network).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from forecast.errors import ComputeGapError
from forecast.explore import plots
from forecast.explore.desk import (
    STATUS_QUO,
    Desk,
    LeverSetting,
    attribution_table,
    probability_statements,
    resolve,
    save_scenario,
    scenario_choices,
    scenario_fields,
    scenario_toml,
)
from forecast.projection import Projection
from forecast.scenarios import LEVERS, Lever, Scenario, load_scenario

#: Levers whose range is too wide for a slider's steps get a typed number only.
_TYPED = 1000.0
_SLIDER_STEPS = 200
_FIGURES = ("fig-ratio", "fig-years", "fig-stocks", "fig-additions", "fig-binds", "fig-attr")
_CSS = {"fontFamily": "system-ui, sans-serif", "fontSize": "13px"}
_COLUMN = {"overflowY": "auto", "height": "95vh"}


def _step(lever: Lever) -> float:
    return (lever.high - lever.low) / _SLIDER_STEPS


def _control(lever: Lever, role: str, value: float) -> object:
    """A slider (with a box to type into) or, for very wide ranges, a number box."""
    ident = {"type": f"lever-{role}", "lever": lever.name}
    if lever.high - lever.low > _TYPED:
        return dcc.Input(id=ident, type="number", value=value, min=lever.low, max=lever.high,
                         debounce=True, style={"width": "10em"})  # fmt: skip
    return dcc.Slider(id=ident, min=lever.low, max=lever.high, step=_step(lever), value=value,
                      marks=None, allow_direct_input=True, updatemode="mouseup",
                      tooltip={"placement": "bottom"})  # fmt: skip


def _base_value(scenario: Scenario, lever: Lever, posterior: dict[str, float]) -> float:
    """Where a control starts: the scenario's constant, a path's first value, or (for a
    lever the scenario leaves to the posterior) the posterior's value in its start year."""
    value = scenario.levers.get(lever.name)
    if value is not None and value.kind == "constant":
        return float(value.constant)
    if value is not None and value.kind == "path":
        return float(value.points[0][1])
    return posterior[lever.name]


def _base_text(scenario: Scenario, lever: str, posterior: dict[str, float]) -> str:
    """What the base scenario does with a lever, in words."""
    value = scenario.levers.get(lever)
    if value is not None:
        return f" base: {value.describe()}"
    return f" base: posterior (median {posterior[lever]:g} in {scenario.start})"


def _lever_row(lever: Lever, scenario: Scenario, posterior: dict[str, float]) -> html.Div:
    """One lever: a 'set' box, its value from the start year, and an optional ramp (end
    value and year); what the lever sets, its unit and range as the help text."""
    value = _base_value(scenario, lever, posterior)
    help_text = f"{lever.term}. Unit: {lever.unit}; valid range {lever.low:g} .. {lever.high:g}."
    line = {"display": "flex", "alignItems": "center", "gap": "4px"}
    return html.Div([
        html.Div([
            dcc.Checklist(id={"type": "lever-set", "lever": lever.name},
                          options=[{"label": "", "value": "on"}], value=[], inline=True),
            html.B(lever.name), f"({lever.unit}, {lever.low:g} .. {lever.high:g})",
            html.Span(_base_text(scenario, lever.name, posterior),
                      id={"type": "lever-base", "lever": lever.name},
                      style={"color": "#666"}),
            html.Abbr("?", title=help_text, style={"cursor": "help"}),
        ], title=help_text, style=line),
        html.Div([html.Span("value", style={"width": "4em"}),
                  html.Div(_control(lever, "start", value), style={"flex": "1"})],
                 style=line),
        html.Div([html.Span("ramp to", style={"width": "4em"}),
                  html.Div(_control(lever, "end", value), style={"flex": "1"}), "by",
                  dcc.Input(id={"type": "lever-year", "lever": lever.name}, type="number",
                            min=2000, max=2100, step=1, debounce=True,
                            placeholder="year", style={"width": "6em"})], style=line),
    ], className="lever", style={"borderBottom": "1px solid #eee", "padding": "3px 0"})  # fmt: skip


def _controls(
    choices: list[Scenario], first: Scenario, user_dir: Path, posterior: dict[str, float]
) -> html.Div:
    options = [{"label": s.name, "value": s.name} for s in choices]
    return html.Div([
        html.Label("scenario to start from"),
        dcc.Dropdown(id="base", options=options, value=first.name, clearable=False),
        html.Div([dcc.Input(id="open-path", type="text", placeholder="or open a .toml file",
                            debounce=True, style={"width": "70%"}),
                  html.Button("open", id="open-file")]),
        html.Label("name of your scenario"),
        dcc.Input(id="name", type="text", value=f"{first.name}_edit", debounce=True),
        html.Label("description"),
        dcc.Input(id="description", type="text", debounce=True, style={"width": "95%"},
                  value=f"{first.name} with levers set in the explorer"),
        html.H4("levers"),
        html.P("Moving a lever sets it (tick one to set it at the value shown); the others "
               "follow the base scenario. Hover a name for what the lever sets."),
        html.Button("reset levers to the base", id="reset"),
        html.Div([_lever_row(lever, first, posterior) for lever in LEVERS.values()],
                 id="levers"),
        html.H4("save as scenario"),
        dcc.Textarea(id="rationale", placeholder="rationale: why these values (source ids)",
                     style={"width": "95%", "height": "4em"}),
        html.Button("save as scenario", id="save"),
        html.Span(f" into {user_dir}"),
        dcc.ConfirmDialog(id="confirm"),
        html.H4("download the summary"),
        html.Button("CSV", id="dl-csv"), html.Button("XLSX", id="dl-xlsx"),
        dcc.Download(id="download"),
    ], style=_COLUMN | {"width": "34%", "paddingRight": "8px"})  # fmt: skip


def _results() -> html.Div:
    graphs = [dcc.Graph(id=i, config={"displaylogo": False}) for i in _FIGURES]
    return html.Div([
        html.Div(id="message", role="alert", style={"color": "#b00", "whiteSpace": "pre-wrap"}),
        html.Div(id="status", style={"color": "#555"}),
        html.Div([html.Label("P(ratio in year > threshold): year "),
                  dcc.Input(id="p-year", type="number", value=2030, step=1, debounce=True),
                  html.Label(" threshold "),
                  dcc.Input(id="p-threshold", type="number", value=10, debounce=True)]),
        html.Ul(id="statements"),
        *graphs,
        html.H4("your scenario as a file"),
        html.Pre(id="scenario-toml", style={"background": "#f6f6f6", "padding": "6px"}),
        dcc.Store(id="fields"),
    ], style=_COLUMN | {"width": "64%"})  # fmt: skip


def _settings(
    base: Scenario, posterior: dict[str, float], set_values: list, starts: list, ends: list,
    years: list,
) -> dict:  # fmt: skip
    """Lever settings from the controls' values (in :data:`LEVERS` order).

    A lever is set when its box is ticked or its value was moved off the base's.
    """
    settings = {}
    for lever, on, start, end, year in zip(LEVERS.values(), set_values, starts, ends, years):
        moved = start is not None and start != _base_value(base, lever, posterior)
        if start is None or not (on or moved):
            continue
        ramp = year is not None and end is not None and end != start
        settings[lever.name] = LeverSetting(float(start), float(end) if ramp else None,
                                       int(year) if ramp else None)  # fmt: skip
    return settings


class Explorer:
    """The explorer's state and callbacks (the Dash app is :attr:`app`).

    Parameters
    ----------
    desk : Desk
    user_dir : pathlib.Path
        Where "save as scenario" writes and user scenarios are listed from.
    """

    def __init__(self, desk: Desk, user_dir: Path) -> None:
        self.desk = desk
        self.user_dir = Path(user_dir)
        choices, self.problems = scenario_choices(self.user_dir)
        self.scenarios = {s.name: s for s in choices}
        first = self.scenarios.get(STATUS_QUO, choices[0])
        self.app = dash.Dash(__name__, title="compute-gap explorer", serve_locally=True,
                             update_title=None)  # fmt: skip
        controls = _controls(choices, first, self.user_dir, desk.posterior_values(first.start))
        self.app.layout = html.Div([controls, _results()],
                                   style={**_CSS, "display": "flex", "gap": "1%"})  # fmt: skip
        self._register()

    def scenario(self, fields: dict) -> Scenario:
        """The scenario the fields describe (``extends`` looked up in the user directory)."""
        return resolve(fields, self.user_dir)

    def update(self, fields: dict, year: int, threshold: float, *, dragging: bool) -> dict:
        """Everything the page shows for ``fields``: figure dicts, statements, the TOML.

        Returns
        -------
        dict
            ``figures`` (by element id), ``statements``, ``toml``, ``projection``.
        """
        scenario = self.scenario(fields)
        projection = self.desk.project(scenario, dragging=dragging)
        name = scenario.name
        figures = {i: plots.fan_figure(projection, m) for i, m in plots.FANS.items()}
        figures["fig-stocks"] = plots.stocks_figure(projection)
        figures["fig-additions"] = plots.additions_figure(projection, name)
        figures["fig-binds"] = plots.binding_figure(projection, name)
        if not dragging:  # the attribution projects 2^k subsets: on release only
            table = attribution_table(projection, name, year)
            figures["fig-attr"] = plots.attribution_figure(table, name, year)
        return {
            "figures": figures,
            "projection": projection,
            "toml": scenario_toml(fields),
            "statements": probability_statements(projection, name, year, threshold),
        }

    def _register(self) -> None:
        app = self.app
        lever_inputs = [
            Input({"type": "lever-set", "lever": ALL}, "value"),
            Input({"type": "lever-start", "lever": ALL}, "value"),
            Input({"type": "lever-end", "lever": ALL}, "value"),
            Input({"type": "lever-year", "lever": ALL}, "value"),
            Input({"type": "lever-start", "lever": ALL}, "drag_value"),
        ]

        @app.callback(
            [Output(i, "figure") for i in _FIGURES]
            + [Output("statements", "children"), Output("scenario-toml", "children"),
               Output("message", "children"), Output("status", "children"),
               Output("fields", "data")],
            [*lever_inputs, Input("base", "value"), Input("name", "value"),
             Input("description", "value"), Input("rationale", "value"),
             Input("p-year", "value"), Input("p-threshold", "value")],
        )  # fmt: skip
        def recompute(sets, starts, ends, years, drags, base, name, description, rationale,
                      p_year, p_threshold):  # fmt: skip
            dragging = _dragging()
            if dragging:  # the dragged slider's position stands in for its value
                moved = [d if d is not None else s for s, d in zip(starts, drags)]
                if moved == starts:  # a slider shown for the first time reports its value
                    raise PreventUpdate
                starts = moved
            return self._recompute(sets, starts, ends, years, base, name, description,
                                   rationale, p_year, p_threshold, dragging)  # fmt: skip

        @app.callback(
            [Output({"type": "lever-set", "lever": ALL}, "value"),
             Output({"type": "lever-start", "lever": ALL}, "value"),
             Output({"type": "lever-end", "lever": ALL}, "value"),
             Output({"type": "lever-year", "lever": ALL}, "value"),
             Output({"type": "lever-base", "lever": ALL}, "children"),
             Output("name", "value"), Output("description", "value")],
            Input("base", "value"), Input("reset", "n_clicks"), prevent_initial_call=True,
        )  # fmt: skip
        def reset(base, _):
            scenario = self.scenarios[base]
            posterior = self.desk.posterior_values(scenario.start)
            starts = [_base_value(scenario, lever, posterior) for lever in LEVERS.values()]
            bases = [_base_text(scenario, n, posterior) for n in LEVERS]
            return ([[] for _ in LEVERS], starts, starts, [None] * len(LEVERS), bases,
                    f"{base}_edit", f"{base} with levers set in the explorer")  # fmt: skip

        @app.callback(
            [Output("base", "options"), Output("base", "value"),
             Output("message", "children", allow_duplicate=True)],
            Input("open-file", "n_clicks"), State("open-path", "value"),
            prevent_initial_call=True,
        )  # fmt: skip
        def open_file(_, path):
            return self._open(path)

        @app.callback(
            [Output("confirm", "displayed"), Output("confirm", "message"),
             Output("message", "children", allow_duplicate=True)],
            Input("save", "n_clicks"), Input("confirm", "submit_n_clicks"),
            State("fields", "data"), prevent_initial_call=True,
        )  # fmt: skip
        def save(_, confirmed, fields):
            return self._save(fields, overwrite=ctx.triggered_id == "confirm")

        @app.callback(
            Output("download", "data"),
            Input("dl-csv", "n_clicks"), Input("dl-xlsx", "n_clicks"),
            State("fields", "data"), prevent_initial_call=True,
        )  # fmt: skip
        def download(_, __, fields):
            return self._download(fields, ctx.triggered_id == "dl-xlsx")

    def _recompute(self, sets, starts, ends, years, base, name, description, rationale,
                   p_year, p_threshold, dragging) -> list:  # fmt: skip
        keep = [dash.no_update] * (len(_FIGURES) + 2)
        try:
            scenario = self.scenarios[base]
            posterior = self.desk.posterior_values(scenario.start)
            settings = _settings(scenario, posterior, sets, starts, ends, years)
            fields = scenario_fields(self.scenarios[base], name or "", description or "",
                                     settings, rationale or "")  # fmt: skip
            shown = self.update(fields, int(p_year or 2030), float(p_threshold or 10),
                                dragging=dragging)  # fmt: skip
        except ComputeGapError as err:
            return [*keep, str(err), dash.no_update, dash.no_update]
        figures = [shown["figures"].get(i, dash.no_update) for i in _FIGURES]
        projection: Projection = shown["projection"]
        status = (f"{projection.n_draws} draws{' (dragging)' if dragging else ''}, seed "
                  f"{projection.seed}")  # fmt: skip
        statements = [html.Li(s) for s in shown["statements"]]
        return [*figures, statements, shown["toml"], self._problems(), status, fields]

    def _problems(self) -> str:
        if not self.problems:
            return ""
        return "Scenario files left out:\n" + "\n".join(str(p) for p in self.problems)

    def _open(self, path: str | None) -> tuple:
        try:
            scenario = load_scenario(Path(path or ""), self.user_dir)
        except ComputeGapError as err:
            return dash.no_update, dash.no_update, str(err)
        self.scenarios[scenario.name] = scenario
        options = [{"label": n, "value": n} for n in sorted(self.scenarios)]
        return options, scenario.name, ""

    def _save(self, fields: dict | None, *, overwrite: bool) -> tuple:
        if not fields:
            return False, "", "nothing to save: the settings are not valid yet"
        if not any(fields["rationale"].values()) and fields["levers"]:
            return False, "", "write a rationale first: why these values (with source ids)"
        target = self.user_dir / f"{fields['name']}.toml"
        try:
            path = save_scenario(fields, self.user_dir, overwrite=overwrite)
        except ComputeGapError as err:
            if target.exists() and not overwrite:
                return True, f"{target} exists. Replace it?", dash.no_update
            return False, "", str(err)
        self.scenarios[fields["name"]] = load_scenario(path, self.user_dir)
        return False, "", f"saved {path}"

    def _download(self, fields: dict | None, xlsx: bool) -> dict:
        if not fields:
            return dash.no_update
        projection = self.desk.project(self.scenario(fields))
        stem = f"explorer-{fields['name']}"
        if not xlsx:
            return dcc.send_data_frame(projection.summary().to_csv, f"{stem}.csv", index=False)
        from forecast.runner import build_manifest
        from forecast.xlsx import write_xlsx

        with tempfile.TemporaryDirectory() as tmp:
            manifest = build_manifest(self.desk.dataset, self.desk.fit, projection)
            path = write_xlsx(projection, manifest, Path(tmp) / "summary.xlsx")
            return dcc.send_bytes(path.read_bytes(), f"{stem}.xlsx")


def _dragging() -> bool:
    """Whether the callback was triggered by a slider being dragged."""
    triggered = ctx.triggered or []
    return bool(triggered) and all(t["prop_id"].endswith(".drag_value") for t in triggered)
