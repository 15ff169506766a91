"""Lazy imports: ``import forecast`` and the command line's help load no heavy library.

Each check runs a fresh interpreter (this one has imported everything by now) and lists the
heavy top-level packages in its ``sys.modules`` afterwards. The public names keep working:
every name of ``forecast.__all__`` resolves, on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

import forecast
from tests.helpers.paths import ROOT

#: Model, plotting and cluster libraries: ``import forecast`` loads none of them.
HEAVY = ("pymc", "pytensor", "arviz", "matplotlib", "statsmodels", "dask", "distributed",
         "jax", "numba", "scipy", "xarray", "pandera", "openpyxl", "SALib", "dash")  # fmt: skip
#: ``compute-gap --help`` and every ``compute-gap COMMAND --help`` load not even these.
DATA = ("numpy", "pandas", "pyarrow", "filelock")
COMMANDS = ("data", "scenarios", "run", "compare", "attribute", "forecast", "backtest",
            "sweep", "report", "fit", "explore")  # fmt: skip


def loaded_after(code: str) -> list[str]:
    """The top-level packages of HEAVY and DATA that a fresh interpreter has after ``code``."""
    probe = f"""
import json, sys
{code}
names = {sorted(HEAVY + DATA)!r}
print(json.dumps(sorted(n for n in names if n in sys.modules)))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_forecast_loads_no_heavy_library() -> None:
    loaded = loaded_after("import forecast")
    assert not [name for name in loaded if name in HEAVY], loaded


def test_help_loads_neither_pandas_nor_numpy() -> None:
    argvs = [["--help"], *[[command, "--help"] for command in COMMANDS]]
    code = f"""
import contextlib, io
from forecast.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    for argv in {argvs!r}:
        assert main(argv) == 0, argv
"""
    assert loaded_after(code) == []


def test_help_lists_every_command() -> None:
    """The command modules register on import, before any command runs."""
    from forecast.cli import app

    names = [command.name for command in app.registered_commands]
    assert names == list(COMMANDS)


def test_every_public_name_resolves() -> None:
    assert set(forecast.__all__) == {"__version__", *forecast._LAZY}
    assert set(forecast.__all__) <= set(dir(forecast))
    for name in forecast.__all__:
        assert getattr(forecast, name) is not None, name
    namespace: dict = {}
    exec("from forecast import *", namespace)
    assert set(forecast.__all__) <= set(namespace)


@pytest.mark.parametrize("name", ["backtest", "report"])
def test_function_names_survive_their_modules(name: str) -> None:
    """``forecast.backtest`` is the function although ``forecast/backtest.py`` is a module
    (``forecast.report`` likewise), whichever is imported first, as before lazy imports."""
    __import__(f"forecast.{name}")
    value = getattr(forecast, name)
    assert callable(value) and not isinstance(value, types.ModuleType)
    assert isinstance(sys.modules[f"forecast.{name}"], types.ModuleType)


def test_submodules_load_on_attribute_access() -> None:
    """``import forecast; forecast.core`` works, as it did when the package imported its
    modules eagerly; unknown names still raise AttributeError."""
    assert forecast.core.HISTORY is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = forecast.no_such_name


def test_fit_follows_the_model_module(monkeypatch) -> None:
    """``forecast.fit`` is looked up in ``forecast.model`` on each use, so a stand-in put
    there (as the tests and the notebook test do) is what ``forecast.fit`` calls."""
    import forecast.model

    def stand_in(*args, **kwargs):
        return "stand-in"

    assert forecast.fit is forecast.model.fit
    monkeypatch.setattr(forecast.model, "fit", stand_in)
    assert forecast.fit is stand_in
