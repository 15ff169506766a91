"""Fit benchmarks on the shipped data: cold fit (compile + sample), warm fit (cache hit), ESS/s.

Each fit runs in a fresh Python process with an empty fit cache, so "cold" includes building
and compiling the model (PyTensor's C cache in ~/.pytensor, numba's and JAX's caches count as
they would for a user who has fitted before; see the README). Run with ``make bench``, or as a
script for a table over samplers and seeds::

    python benchmarks/bench_fit.py [--seeds 0 1 2] [--samplers numpyro nutpie pymc]

Skipped under ``--benchmark-disable`` (``make test``): each cold fit takes minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from forecast.model.fitting import SAMPLERS

_CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from forecast.data import load_dataset
from forecast.model import fit
sampler, seed, cache_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = load_dataset()
cold = fit(data, sampler=sampler, seed=seed, cache_dir=cache_dir, refit=True)
start = time.perf_counter()
warm = fit(data, sampler=sampler, seed=seed, cache_dir=cache_dir)
warm_s = time.perf_counter() - start
table = cold.diagnostics()
print(json.dumps({
    "sampler": sampler, "seed": seed, "cold_s": cold.seconds, "warm_s": warm_s,
    "warm_from_cache": warm.from_cache, "divergences": cold.divergences,
    "max_r_hat": float(table.r_hat.max()), "min_ess_bulk": float(table.ess_bulk.min()),
    "ess_per_s": float(table.ess_bulk.min()) / cold.seconds, "passed": cold.passed,
}))
"""


def fit_once(sampler: str, seed: int, cache_dir: str | Path) -> dict:
    """Cold then warm default fit in a fresh process; returns timings and diagnostics."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, sampler, str(seed), str(cache_dir)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_bench_fit(benchmark, request, tmp_path, sampler):
    if request.config.getoption("benchmark_disable"):
        pytest.skip("fit benchmarks take minutes; run them with `make bench`")
    result = benchmark.pedantic(fit_once, args=(sampler, 0, tmp_path), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["warm_from_cache"]
    assert result["warm_s"] * 20 < result["cold_s"]


def main(argv: list[str] | None = None) -> None:
    """Print cold/warm times, ESS/s and diagnostics per sampler and seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    args = parser.parse_args(argv)
    header = "sampler  seed  cold_s  warm_s  ess/s  div  max_rhat  min_ess  passed"
    print(header)
    for sampler in args.samplers:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as cache_dir:
                r = fit_once(sampler, seed, cache_dir)
            print(f"{sampler:8s} {seed:4d} {r['cold_s']:7.1f} {r['warm_s']:7.2f} "
                  f"{r['ess_per_s']:6.1f} {r['divergences']:4d} {r['max_r_hat']:9.3f} "
                  f"{r['min_ess_bulk']:8.0f}  {r['passed']}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
