"""``compute-gap explore``: the lever explorer in the browser, on the cached posterior."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from forecast import bounds
from forecast.cli.common import (
    CacheOption,
    DataDirOption,
    DrawsOption,
    HorizonOption,
    SeedOption,
    UntilOption,
    app,
    console,
    fit_options,
)
from forecast.errors import InputError
from forecast.text import plain

HOST = "127.0.0.1"


def build_explorer(
    data_dir: Path | None, until: int | None, seed: int, horizon: int, draws: int | None,
    drag_draws: int, scenarios_dir: Path, cache_dir: Path | None,
) -> object:  # fmt: skip
    """Load the data and the cached fit (fitting once if there is none); the Explorer."""
    try:
        from forecast.explore.app import Explorer
    except ImportError as err:
        raise InputError(
            f'the explorer needs Dash ({err.name} is missing): pip install "compute-gap[explore]"'
        ) from None
    from forecast.data import load_dataset
    from forecast.explore.desk import Desk
    from forecast.model import fit as fit_model

    bounds.check_projection(horizon=horizon, draws=draws, seed=seed)
    bounds.DRAWS.check(drag_draws, "--drag-draws")
    dataset = load_dataset(data_dir, until=until)
    fit = fit_model(dataset, seed=seed, **fit_options(cache_dir))
    desk = Desk(fit, dataset=dataset, seed=seed, horizon=horizon, draws=draws,
                drag_draws=drag_draws)  # fmt: skip
    return Explorer(desk, scenarios_dir)


@app.command("explore")
def explore_command(
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0: a free one).", min=0, max=65535)
    ] = 0,
    scenarios_dir: Annotated[
        Path,
        typer.Option("--scenarios-dir", help="Your scenario files: listed, and saved into."),
    ] = Path("scenarios"),
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    horizon: HorizonOption = 2035,
    seed: SeedOption = 0,
    draws: DrawsOption = None,
    drag_draws: Annotated[
        int,
        typer.Option("--drag-draws", help="Draws projected while a lever is dragged.",
                     **bounds.DRAWS.option()),
    ] = 1000,
    cache_dir: CacheOption = None,
) -> None:  # fmt: skip
    """Explore levers in the browser on the cached posterior (no refit); Ctrl-C stops it."""
    from werkzeug.serving import make_server

    with console.status("loading the cached fit..."):
        explorer = build_explorer(data_dir, until, seed, horizon, draws, drag_draws,
                                  scenarios_dir, cache_dir)  # fmt: skip
    try:  # bound here: werkzeug exits the process on a busy port
        listening = socket.create_server((HOST, port))
    except OSError as err:
        raise InputError(f"cannot listen on {HOST}:{port}: {err.strerror}") from None
    port = listening.getsockname()[1]
    server = make_server(HOST, port, explorer.app.server, threaded=True, fd=listening.fileno())
    console.print(plain(f"compute-gap explorer: http://{HOST}:{port}/"),
                  highlight=False)  # fmt: skip
    console.print("Ctrl-C stops it.", highlight=False)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        listening.close()
