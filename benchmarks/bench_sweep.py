"""Sweep throughput (samples x draws x years per second) on 1 and 2 Dask workers.

Reports wall-clock throughput and the parallel efficiency (throughput on 2 workers / twice
that on 1), the throughput per CPU-second of the workers (insensitive to other load on a
shared machine), the memory of each worker process, and how the time grows with samples and
with draws. Clusters are started and warmed up (imports, numba cache) before timing, so the
figures are steady-state costs; with ``--benchmark-disable`` only a tiny in-process sweep runs.
"""

from __future__ import annotations

import itertools
import resource
import time
from pathlib import Path

import psutil
import pytest
from distributed import Client, LocalCluster

import forecast
from forecast.paths import shipped_dir
from forecast.sweeps import load_sweep
from tests.helpers.synthetic import synthetic_inputs

_RUNS = itertools.count()
#: Timed repetitions of the main measurement (the fastest counts: the machine is shared).
ROUNDS = 3
#: (samples, draws) of the growth measurements; the main measurement is (256, 200).
SIZES = [(128, 200), (512, 200), (256, 100), (256, 400)]


def _rss_mib() -> float:
    """Current resident memory of this process in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User and system CPU time of this process so far."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def _sweep(client: Client, out: Path, samples: int, draws: int) -> dict:
    """One sweep of the default spec: wall seconds, worker CPU seconds and cells."""
    inputs = synthetic_inputs(n_draws=draws)
    spec = load_sweep(shipped_dir("scenarios") / "sweeps" / "default.toml")
    cpu = sum(client.run(_cpu_seconds).values())
    start = time.perf_counter()
    result = forecast.sweep(
        spec, inputs, samples=samples, client=client, out=out / f"run{next(_RUNS)}"
    )
    seconds = time.perf_counter() - start
    m = result.manifest
    return {
        "seconds": seconds,
        "worker_cpu_seconds": sum(client.run(_cpu_seconds).values()) - cpu,
        "cells": m["rows"] * m["draws"] * (m["years"][1] - m["years"][0] + 1),
    }


def _measure(workers: int, out: Path, rounds) -> dict:
    """Throughput, growth with samples and draws, and worker memory on ``workers``."""
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        _sweep(client, out, 16, 50)  # warm-up: imports and numba cache on each worker
        idle = sorted(round(m) for m in client.run(_rss_mib).values())
        best = min(rounds(lambda: _sweep(client, out, 256, 200)), key=lambda r: r["seconds"])
        growth = {f"{n}x{d}": round(_sweep(client, out, n, d)["seconds"], 2) for n, d in SIZES}
        peak = sorted(round(m) for m in client.run(_peak_rss_mib).values())
    return {
        "workers": workers,
        "cells_per_second": best["cells"] / best["seconds"],
        "cells_per_worker_cpu_second": best["cells"] / best["worker_cpu_seconds"],
        "worker_rss_mib_after_warmup": idle,
        "worker_peak_rss_mib": peak,
        "seconds_by_samples_x_draws": growth,
    }


def test_sweep_smoke(benchmark, tmp_path: Path) -> None:
    if not benchmark.disabled:
        pytest.skip("the timed benchmark below covers this")
    spec = load_sweep(shipped_dir("scenarios") / "sweeps" / "default.toml")
    result = benchmark(
        forecast.sweep, spec, synthetic_inputs(n_draws=10), samples=2, method="lhs",
        processes=False, workers=1, out=tmp_path / "out",
    )  # fmt: skip
    assert result.results.count_rows() == 2 * len(spec.outcomes)


def test_sweep_scaling(benchmark, tmp_path: Path) -> None:
    if benchmark.disabled:
        pytest.skip("timed with --benchmark-only")
    one = _measure(1, tmp_path, lambda run: [run() for _ in range(ROUNDS)])

    def timed(run) -> list[dict]:
        results: list[dict] = []
        benchmark.pedantic(lambda: results.append(run()), rounds=ROUNDS, iterations=1)
        return results

    two = _measure(2, tmp_path, timed)
    efficiency = two["cells_per_second"] / (2 * one["cells_per_second"])
    benchmark.extra_info.update(one_worker=one, two_workers=two, parallel_efficiency=efficiency)
    for m in (one, two):
        print(f"\n{m}")
    print(f"parallel efficiency on 2 workers: {efficiency:.2f}")
