"""Engine throughput: scenario variants x draws x years, as a ratio to a numpy-copy floor.

The floor is a plain copy of a float64 array the size of the engine's output (all outputs:
gap metrics, flows, capex, power and the binding limits, with the limits applied),
timed after a warm-up, since first large allocations are several times slower here.
Measured on one thread and on the default threads (one per core; the kernel releases the
GIL and threads share the draws), against the same single-threaded copy. Besides wall time,
each is also timed in CPU seconds of this process (``cpu_ratio_to_floor``): on a machine
shared with other work that ratio moves far less than the wall-clock one (for the threaded
run it is the CPU the threads spend together, not the time to wait).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from forecast._kernels import OUTPUTS
from forecast.engine import baseline, engine_threads, project_chunk
from forecast.scenarios import scenario_from_dict
from tests.helpers.synthetic import synthetic_inputs


def _variants(n: int) -> list:
    rng = np.random.default_rng(0)
    return [
        scenario_from_dict(
            {
                "name": f"v{i}",
                "description": "sweep variant",
                "start": 2026,
                "levers": {
                    "licensed_share": float(rng.uniform(0, 1)),
                    "leakage": float(rng.uniform(0, 0.6)),
                    "domestic_growth": float(rng.uniform(0, 1)),
                },
            }
        )
        for i in range(n)
    ]


def _engine(scenarios, base, chunk: int, threads: int | None, cpu: list[float]) -> int:
    start = time.process_time()
    cells = 0
    for i in range(0, len(scenarios), chunk):
        out = project_chunk(scenarios[i : i + chunk], base, seed=0, threads=threads)
        cells += out["us_h100e"].size
    cpu.append(time.process_time() - start)
    return cells


def _timed(call, clock=time.perf_counter) -> float:
    start = clock()
    call()
    return clock() - start


@pytest.fixture(scope="module")
def setup(request):
    quick = request.config.getoption("benchmark_disable")
    n_scen, n_draws = (20, 100) if quick else (1000, 1000)
    inputs = synthetic_inputs(n_draws=n_draws, first=2021, last=2025)
    base = baseline(inputs, 2030, np.random.default_rng(0))  # 10 years: 2021..2030
    return _variants(n_scen), base


@pytest.mark.parametrize("threads", [1, None], ids=["one-thread", "per-core"])
def test_engine_throughput(benchmark, setup, threads) -> None:
    scenarios, base = setup
    chunk = 8
    rounds = 1 if benchmark.disabled else 5
    cpu: list[float] = []
    cells = benchmark.pedantic(
        _engine, args=(scenarios, base, chunk, threads, cpu), rounds=rounds, iterations=1
    )
    assert cells == len(scenarios) * base.n_draws * len(base.years)
    if benchmark.disabled:
        return
    floor_array = np.ones((len(scenarios), base.n_draws, len(base.years), len(OUTPUTS)))
    floor_array.copy()  # warm-up
    floor = min(_timed(floor_array.copy) for _ in range(rounds))
    floor_cpu = min(_timed(floor_array.copy, time.process_time) for _ in range(rounds))
    engine = benchmark.stats.stats.min
    used = engine_threads(base.n_draws) if threads is None else threads
    benchmark.extra_info.update(
        cells=cells, cells_per_second=cells / engine, floor_seconds=floor,
        ratio_to_floor=engine / floor, cpu_ratio_to_floor=min(cpu) / floor_cpu, threads=used,
    )  # fmt: skip
    print(f"\nengine ({used} threads): {cells / engine:.3g} cells/s, ratio to copy floor "
          f"{engine / floor:.2f} (CPU time {min(cpu) / floor_cpu:.2f})")  # fmt: skip
