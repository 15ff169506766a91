"""``compute-gap scenarios``: list the scenario library or show one scenario's levers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from forecast.cli.common import app, console
from forecast.text import plain, visible

if TYPE_CHECKING:
    from forecast.scenarios import Scenario

ScenarioDirOption = Annotated[
    Path | None,
    typer.Option("--scenario-dir", help="Directory of scenario files (default: shipped library)."),
]


def lever_table(scenario: Scenario) -> Table:
    """Rich table of a scenario's resolved levers with unit and rationale."""
    from forecast.scenarios import LEVERS

    chain = " < ".join(scenario.chain)
    table = Table(title=plain(f"{scenario.name} (from {scenario.start}; {chain})"))
    for column in ("lever", "value", "unit", "rationale"):
        table.add_column(column, overflow="fold")
    for name, value in scenario.levers.items():
        rationale = plain(scenario.rationale.get(name, ""))
        table.add_row(name, value.describe(), LEVERS[name].unit, rationale)
    return table


@app.command("scenarios")
def scenarios_command(
    show: Annotated[
        str | None, typer.Option("--show", help="Print the resolved levers of NAME or PATH.")
    ] = None,
    scenario_dir: ScenarioDirOption = None,
) -> None:
    """List the scenario library, or show one scenario's resolved levers."""
    from forecast.scenarios import list_scenarios, load_scenario

    if show is not None:
        scenario = load_scenario(show, scenario_dir)
        heading = Text.assemble(
            (visible(scenario.name), "bold"), ": ", visible(scenario.description)
        )
        console.print(heading, highlight=False)
        console.print(lever_table(scenario))
        return
    table = Table(title="scenario library")
    table.add_column("name", no_wrap=True)
    for column in ("start", "extends", "levers", "description"):
        table.add_column(column, overflow="fold")
    for scenario in list_scenarios(scenario_dir):
        parent = scenario.chain[1] if len(scenario.chain) > 1 else ""
        table.add_row(
            plain(scenario.name), str(scenario.start), plain(parent),
            ", ".join(scenario.levers), plain(scenario.description),
        )  # fmt: skip
    console.print(table)
