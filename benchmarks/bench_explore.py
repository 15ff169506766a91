"""Explorer update latency: a lever change -> the new figure data, as JSON for the browser.

What the server does between a slider event and its answer: build and validate the edited
scenario, project it with the status quo, compute every figure (and, on release, the lever
attribution) and encode them as Dash does. Measured at the dragging draw count (1,000; the
target is 300 ms on a 2-core machine) and at all draws of a posterior-sized synthetic fit
(4,000). With ``--benchmark-disable`` (``make test``) a small case runs once as a check.
"""

from __future__ import annotations

import pytest
from plotly.io.json import to_json_plotly

from forecast.explore.app import Explorer
from forecast.explore.desk import DRAG_DRAWS, Desk, LeverSetting, scenario_fields
from tests.helpers.synthetic import SyntheticFit

pytest.importorskip("dash")
#: Draws of the synthetic posterior (the shipped fit keeps 4 chains x 1,000 draws).
FULL_DRAWS = 4000
TARGET_SECONDS = 0.3


@pytest.fixture(scope="module")
def explorer(request, tmp_path_factory) -> Explorer:
    quick = request.config.getoption("benchmark_disable")
    fit = SyntheticFit(n_draws=100 if quick else FULL_DRAWS)
    desk = Desk(fit, drag_draws=50 if quick else DRAG_DRAWS)
    return Explorer(desk, tmp_path_factory.mktemp("scenarios"))


def _update(explorer: Explorer, leakage: list[float], dragging: bool) -> int:
    """One lever change: the scenario, the projection, the figures, their JSON."""
    leakage[0] = 0.05 + (leakage[0] + 0.1) % 0.9  # a new value each time, as a drag gives
    fields = scenario_fields(explorer.scenarios["status_quo"], "edit", "benchmark",
                             {"leakage": LeverSetting(leakage[0])})  # fmt: skip
    shown = explorer.update(fields, 2030, 10.0, dragging=dragging)
    return len(to_json_plotly(shown["figures"]))


@pytest.mark.parametrize("dragging", [True, False], ids=["dragging", "release"])
def test_update_latency(benchmark, explorer, dragging) -> None:
    rounds = 1 if benchmark.disabled else 15
    warmup = 0 if benchmark.disabled else 2
    size = benchmark.pedantic(_update, args=(explorer, [0.0], dragging), rounds=rounds,
                              iterations=1, warmup_rounds=warmup)  # fmt: skip
    assert size > 10_000  # six figures of data
    if benchmark.disabled:
        return
    draws = explorer.desk.drag_draws if dragging else FULL_DRAWS
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(draws=draws, median_seconds=median)
    print(f"\nexplorer update at {draws} draws: median {1000 * median:.0f} ms")
    if dragging:
        assert median <= TARGET_SECONDS, f"{median:.3f} s at {draws} draws"
