"""``compute-gap explore``: move export-control levers in the browser and see the gap answer.

:mod:`forecast.explore.desk` holds the logic (no web framework), :mod:`forecast.explore.plots`
the figures as Plotly dicts and :mod:`forecast.explore.app` the Dash page; :func:`serve` runs
it on ``127.0.0.1``. Dash is an optional dependency: ``pip install "compute-gap[explore]"``.
"""

from __future__ import annotations

from forecast.explore.desk import DRAG_DRAWS, Desk, LeverSetting, save_scenario

__all__ = ["DRAG_DRAWS", "Desk", "LeverSetting", "save_scenario"]
