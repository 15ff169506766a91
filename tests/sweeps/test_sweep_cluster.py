"""Sweeps on a real cluster: a standalone ``dask scheduler`` and two ``dask worker`` processes.

Nothing here is a LocalCluster: the scheduler and the workers are separate programs on
127.0.0.1, as on a cluster that outgrows one machine (the workers have the package installed
and read nothing from the client's disk: the client ships the posterior).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client

import forecast
from forecast.cli import main, sweep_cmd
from tests.helpers.sweeps import (
    SMALL_TOML,
    assert_each_sample_once,
    run_small,
    small_inputs,
    small_spec,
    tidy,
)

DASK = Path(sys.executable).with_name("dask")
#: Seconds to wait for the scheduler's file and for the workers to register.
STARTUP_S = 120


@contextlib.contextmanager
def standalone_cluster(tmp_path: Path, n_workers: int = 2) -> Iterator[tuple[str, dict]]:
    """(scheduler address, {worker name: process}) of a scheduler and workers run as
    programs; each worker is one process (no nanny), so killing it kills the worker."""
    scheduler_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = {}
    with contextlib.ExitStack() as stack:

        def start(name: str, args: list[str]) -> subprocess.Popen:
            log = stack.enter_context((logs / f"{name}.log").open("w"))
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
            stack.callback(_stop, process)
            return process

        start("scheduler", [str(DASK), "scheduler", "--port", "0",
                            "--scheduler-file", str(scheduler_file), *common])  # fmt: skip
        deadline = time.monotonic() + STARTUP_S
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(n_workers):
            name = f"worker-{i}"
            processes[name] = start(name, [str(DASK), "worker", address, "--name", name,
                                           "--nthreads", "1", "--no-nanny", *common])  # fmt: skip
        with Client(address, timeout=STARTUP_S) as client:
            client.wait_for_workers(n_workers, timeout=STARTUP_S)
        yield address, processes


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _result_files(out: Path) -> dict[str, bytes]:
    """The sweep's result files (not the manifest, which records how it ran), by path."""
    files = [*(out / "results").rglob("*.parquet"), out / "sobol.csv", out / "prim.csv"]
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(files) if p.exists()}


def test_cli_sweep_on_a_standalone_scheduler_equals_a_local_cluster_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(sweep_cmd, "load_fit", lambda *args: small_inputs())
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_TOML)
    argv = ["sweep", str(spec), "--samples", "16"]
    assert main([*argv, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    with standalone_cluster(tmp_path) as (address, _):
        assert main([*argv, "--scheduler", address, "--out", str(tmp_path / "cluster")]) == 0
    capsys.readouterr()
    local, cluster = _result_files(tmp_path / "local"), _result_files(tmp_path / "cluster")
    assert any(name.startswith("results") for name in local) and "sobol.csv" in local
    assert cluster == local


def test_killing_a_standalone_worker_mid_sweep_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    inputs = small_inputs(200)
    killed: list[str] = []
    with standalone_cluster(tmp_path) as (address, workers), Client(address) as client:
        names = {info["name"]: addr for addr, info in client.scheduler_info()["workers"].items()}

        def kill_a_busy_worker(done: int, total: int) -> None:
            busy = {addr for addr, keys in client.processing().items() if keys}
            victims = [name for name, addr in names.items() if addr in busy]
            if killed or done < 2 or not victims:
                return
            workers[victims[0]].send_signal(signal.SIGKILL)
            killed.append(victims[0])

        result = forecast.sweep(
            small_spec(), inputs, samples=64, chunk_size=8, client=address,
            out=tmp_path / "killed", progress=kill_a_busy_worker,
        )  # fmt: skip
        assert killed, "no worker was busy when the sweep had begun"
        assert workers[killed[0]].wait(timeout=20) == -signal.SIGKILL
    assert result.manifest["chunks"] == 40
    assert_each_sample_once(result)
    reference = run_small(tmp_path / "reference", inputs, samples=64, chunk_size=64)
    pd.testing.assert_frame_equal(tidy(result), tidy(reference))
