"""Sweeps survive a killed worker and Ctrl-C: every sample exactly once, resume finishes.

An interrupted sweep keeps its finished chunks in its partial directory beside the output
(:func:`forecast.sweeps.store.partial_dir`); the output itself appears only when complete.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from distributed import Client, LocalCluster

import forecast
from forecast.sweeps.store import partial_dir
from tests.helpers.paths import ROOT
from tests.helpers.sweeps import (
    assert_each_sample_once,
    run_small,
    small_inputs,
    small_spec,
    tidy,
)


def test_killed_worker_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    killed: list[int] = []
    inputs = small_inputs(200)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        as cluster,
        Client(cluster) as client,
    ):  # fmt: skip

        def kill_a_busy_worker(done: int, total: int) -> None:
            busy = [w for w, keys in client.processing().items() if keys]
            if killed or done < 2 or not busy:
                return
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        result = forecast.sweep(
            small_spec(), inputs, samples=64, chunk_size=8, client=client,
            out=tmp_path / "killed", progress=kill_a_busy_worker,
        )  # fmt: skip
    assert killed, "no worker was busy when the sweep was half done"
    assert result.manifest["chunks"] == 40
    assert_each_sample_once(result)
    reference = run_small(tmp_path / "reference", inputs, samples=64, chunk_size=64)
    pd.testing.assert_frame_equal(tidy(result), tidy(reference))


INTERRUPTED = """
import sys, time
import forecast
from forecast.sweeps.store import partial_dir
from tests.helpers.sweeps import small_inputs, small_spec

def slow(done, total):
    print(done, flush=True)
    time.sleep(0.2)

if __name__ == "__main__":
    forecast.sweep(small_spec(), small_inputs(), samples=64, chunk_size=8, processes=False,
                   workers=1, out=sys.argv[1], progress=slow)
"""


def test_ctrl_c_leaves_complete_chunks_and_resume_finishes(tmp_path: Path) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent(INTERRUPTED))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, str(script), str(out)], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        for line in proc.stdout:
            if int(line) >= 3:
                proc.send_signal(signal.SIGINT)
                break
        _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert not out.exists()  # the output receives the sweep only when it is complete
    written = sorted((partial_dir(out) / "results").iterdir())
    assert all(p.name.startswith("chunk=") for p in written), "temporary files left behind"
    assert 3 <= len(written) < 40
    for path in written:
        assert pq.read_table(path).num_rows == 8 * 2
    result = forecast.sweep(
        small_spec(), small_inputs(), samples=64, chunk_size=8, processes=False, workers=1,
        out=out, resume=True,
    )  # fmt: skip
    assert_each_sample_once(result)
    reference = run_small(tmp_path / "reference", samples=64, chunk_size=64)
    pd.testing.assert_frame_equal(tidy(result), tidy(reference))
