"""Run a sweep on Dask: sample the lever space, project it in chunks, stream chunks to Parquet.

Layout of the output directory (one result set, see :mod:`forecast.io`)::

    OUT/manifest.json                  what was asked (spec hash, seed, samples, method,
                                       chunks) and the SHA-256 of every file
    OUT/results/chunk=000012.parquet   one row per sample x outcome, one file per chunk
    OUT/sobol.csv, OUT/prim.csv        added by :meth:`SweepResult.analyse`

Each chunk is a task of an evaluator (:mod:`forecast.evaluation`: by default a
:class:`~forecast.evaluation.DaskEvaluator`); this process writes its table to a temporary
file and renames it into place in the sweep's partial directory beside ``OUT``
(:mod:`forecast.sweeps.store`), so a chunk file is either complete or absent. A worker that
dies takes only its running tasks with it, which the scheduler reruns elsewhere, and each
chunk is written under its own deterministic name exactly once; ``resume`` skips chunks
already done. ``OUT`` receives the whole set when every chunk is there. The samples, the
posterior draws and the baseline come from one seed (:func:`forecast.evaluation.prepare`),
and each sample's result depends only on its own lever values, so results do not depend on
the evaluator, the number of workers, the chunk order or which chunks were resumed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from forecast import bounds
from forecast.core import ProjectionInputs
from forecast.engine import DEFAULT_CHUNK, Baseline, check_starts, project_chunk
from forecast.evaluation import (
    DaskEvaluator,
    Evaluator,
    Posterior,
    make_manifest,
    prepare,
    stream_seed,
)
from forecast.io import inspect_target, result_set
from forecast.quantiles import QUANTILES, quantile_column
from forecast.sweeps import store
from forecast.sweeps.analysis import design, design_rows
from forecast.sweeps.result import SweepResult
from forecast.sweeps.spec import SweepSpec, load_sweep

if TYPE_CHECKING:
    from distributed import Client

#: Samples per Dask task (and per Parquet file).
DEFAULT_CHUNK_SIZE = 256


def evaluate_chunk(
    spec: SweepSpec,
    base: Baseline,
    rows: np.ndarray,
    first: int,
    seed: int,
    store_draws: bool,
    threads: int | None = 1,
) -> pa.Table:
    """Project one chunk of samples and summarise each outcome over the posterior draws.

    Parameters
    ----------
    spec : SweepSpec
    base : Baseline
        Shared by every chunk of the sweep.
    rows : numpy.ndarray
        Lever values, shape (sample, lever), in the order of ``spec.levers``.
    first : int
        Index of the first row in the sweep's design.
    seed : int
        Seeds the lever distributions left in the base scenario (as in :func:`project`).
    store_draws : bool
        Also keep every posterior draw in a list column ``draws``.
    threads : int, optional
        Threads of the scenario engine (default 1: a sweep's parallelism is its workers;
        None: the engine's choice). Results do not depend on it.

    Returns
    -------
    pyarrow.Table
        One row per sample x outcome: ``sample, outcome, metric, year``, the lever values,
        ``mean, q05, q25, q50, q75, q95`` (and ``draws``).
    """
    scenarios = [spec.scenario(values) for values in rows]
    columns = {o: int(np.searchsorted(base.years, o.year)) for o in spec.outcomes}
    parts: dict = {o: [] for o in spec.outcomes}
    for i in range(0, len(scenarios), DEFAULT_CHUNK):
        values = project_chunk(scenarios[i : i + DEFAULT_CHUNK], base, seed, threads=threads)
        for outcome, column in columns.items():
            parts[outcome].append(values[outcome.metric][:, :, column])
    stacked = np.concatenate([np.concatenate(parts[o]) for o in spec.outcomes])
    return _table(spec, rows, first, stacked, store_draws)


def _table(
    spec: SweepSpec, rows: np.ndarray, first: int, stacked: np.ndarray, store_draws: bool
) -> pa.Table:
    """Tidy table from outcome values stacked as (outcome x sample, draw)."""
    n, k = len(rows), len(spec.outcomes)
    quantiles = np.quantile(stacked, QUANTILES, axis=1)
    columns = {
        "sample": np.tile(np.arange(first, first + n, dtype=np.int64), k),
        "outcome": np.repeat([o.name for o in spec.outcomes], n),
        "metric": np.repeat([o.metric for o in spec.outcomes], n),
        "year": np.repeat([o.year for o in spec.outcomes], n),
        **{lever: np.tile(rows[:, j], k) for j, lever in enumerate(spec.levers)},
        "mean": stacked.mean(axis=1),
        **{quantile_column(q): quantiles[i] for i, q in enumerate(QUANTILES)},
    }
    table = pa.table(columns)
    if store_draws:
        flat = pa.array(np.ascontiguousarray(stacked).ravel())
        table = table.append_column(
            "draws", pa.FixedSizeListArray.from_arrays(flat, stacked.shape[1])
        )
    return table


def world_digest(base: Baseline) -> str:
    """SHA-256 of the model's world the sweep projects (years, drivers, scalars, history)."""
    digest = hashlib.sha256(np.ascontiguousarray(base.years).tobytes())
    for part in (base.drivers, base.scalars, base.hist):
        for name in sorted(part):
            digest.update(np.ascontiguousarray(part[name], dtype=float).tobytes())
    return digest.hexdigest()


def _chunk_task(base: Baseline, task: tuple, **options: object) -> pa.Table:
    """One evaluator task: ``task`` is ``(rows, first)`` of a chunk."""
    rows, first = task
    return evaluate_chunk(base=base, rows=rows, first=first, **options)


def _manifest(spec: SweepSpec, base: Baseline, settings: dict) -> dict:
    return make_manifest(
        sweep=spec.name,
        file=str(spec.path) if spec.path else None,
        spec_sha256=spec.digest,
        inputs_sha256=world_digest(base),
        **settings,
        draws=base.n_draws,
        years=[int(base.years[0]), int(base.years[-1])],
        levers=spec.ranges,
        outcomes=[o.name for o in spec.outcomes],
        conditions=[c.text for c in spec.conditions],
    )


def _evaluate(
    evaluator: Evaluator,
    spec: SweepSpec,
    base: Baseline,
    rows: np.ndarray,
    todo: list[int],
    settings: dict,
    out: Path,
    progress: Callable[[int, int], None],
) -> None:
    """Evaluate chunks ``todo`` with ``evaluator``, writing each as it completes."""
    size, chunks = settings["chunk_size"], settings["chunks"]
    task = functools.partial(
        _chunk_task, spec=spec, seed=settings["seed"], store_draws=settings["store_draws"],
        threads=evaluator.threads,
    )  # fmt: skip
    tasks = [(rows[chunk * size : (chunk + 1) * size], chunk * size) for chunk in todo]
    done = chunks - len(todo)
    progress(done, chunks)
    with evaluator:
        for i, table in evaluator.map(task, tasks, shared=base, name="sweep-chunk"):
            store.save_chunk(out, todo[i], table)
            done += 1
            progress(done, chunks)


def sweep(
    spec: SweepSpec | str | Path,
    fit: Posterior | ProjectionInputs,
    *,
    samples: int = 1024,
    method: str = "sobol",
    draws: int | None = None,
    seed: int = 0,
    out: str | Path = "results/sweep",
    resume: bool = False,
    overwrite: bool = False,
    client: Client | str | None = None,
    workers: int = 2,
    processes: bool = True,
    evaluator: Evaluator | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    store_draws: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Sample a sweep's lever space and project every sample over the posterior draws.

    Parameters
    ----------
    spec : SweepSpec, str or pathlib.Path
        A sweep, or the path of a sweep file.
    fit : Fit or ProjectionInputs
        A fitted model (``draws`` of its ``projection_inputs`` are used) or the inputs.
    samples : int
        Base sample count N: Sobol designs have ``N * (levers + 2)`` rows (N a power of two),
        Latin hypercubes N rows.
    method : {"sobol", "lhs"}
    draws : int, optional
        Posterior draws per sample (default: all; ignored for inputs).
    seed : int
        One seed for the draws, the baseline, the design and the lever distributions; the
        draws and baseline are those of :func:`forecast.project` with the same seed.
    out : str or pathlib.Path
        Output directory (see the module docstring): written as a whole when the sweep is
        complete; refused if it holds files compute-gap did not write, unless ``overwrite``.
    resume : bool
        Continue an interrupted sweep (or re-check the complete one in ``out``), computing
        only chunks that are missing or damaged.
    overwrite : bool
        Replace a sweep in ``out`` and discard an interrupted one, instead of refusing;
        see also :func:`forecast.io.check_target`.
    client : distributed.Client or str, optional
        A client, or the address of a scheduler (``tcp://host:8786``); default: a new
        LocalCluster of ``workers`` single-threaded workers. This process writes the files,
        so workers need no access to ``out``.
    workers : int
        Workers of the default LocalCluster.
    processes : bool
        Whether the LocalCluster's workers are processes (else threads).
    evaluator : forecast.evaluation.Evaluator, optional
        Where the chunks run, instead of ``DaskEvaluator(client, workers, processes)``
        (e.g. :class:`~forecast.evaluation.InProcessEvaluator`); results do not depend on it.
    chunk_size : int
        Samples per task and per Parquet file.
    store_draws : bool
        Also store every posterior draw per sample and outcome (a list column ``draws``).
    progress : callable, optional
        Called as ``progress(chunks_done, chunks)`` after each chunk is written.

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        For an invalid sweep, a start year outside the data, or an ``out`` holding another
        sweep (or any sweep, or an interrupted one, without ``resume``).
    ValueError
        For an unknown method or a Sobol sample count that is not a power of two, or
        (:class:`forecast.InputError`) an argument outside :mod:`forecast.bounds`.
    OutputError
        If ``out`` cannot be written safely.

    Notes
    -----
    The default LocalCluster spawns worker processes, so a script calling this needs the
    usual ``if __name__ == "__main__":`` guard (or ``processes=False``).
    """
    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    _check_arguments(samples, draws, seed, chunk_size, workers)
    n_rows = design_rows(spec.problem, samples, method)
    prepared = prepare(fit, spec.horizon, seed, draws)
    base = prepared.world
    bounds.SWEEP_CHUNK_CELLS.check_total(
        "sweep", chunk_size=chunk_size, draws=base.n_draws, outcomes=len(spec.outcomes)
    )
    rows = design(spec.problem, samples, method, stream_seed(prepared.streams["design"]))
    check_starts([spec.scenario(rows[0])], base, spec.horizon)
    settings = {
        "seed": seed, "samples": samples, "method": method, "rows": n_rows,
        "chunk_size": chunk_size, "chunks": -(-n_rows // chunk_size), "store_draws": store_draws,
    }  # fmt: skip
    manifest = _manifest(spec, base, settings)
    out = Path(out)
    partial = store.partial_dir(out)
    found = store.continued(partial, manifest, resume, overwrite)
    committed = store.reusable(inspect_target(out), manifest, resume, overwrite, bool(found))
    if committed is not None:
        manifest["created"] = committed["created"]
    with result_set(out, "sweep", overwrite=overwrite, staging=partial) as staged:
        manifest = store.open_partial(staged.path, found or manifest, continuing=bool(found))
        store.reuse(staged.path, out, committed)
        done = store.finished(staged.path, settings["chunks"])
        todo = [c for c in range(settings["chunks"]) if c not in done]
        if todo:
            evaluator = evaluator or DaskEvaluator(client, workers, processes)
            _evaluate(evaluator, spec, base, rows, todo, settings, staged.path, progress or _quiet)
        store.close(staged.path)
        manifest = staged.commit(manifest)
    return SweepResult(spec, out, manifest)


def _check_arguments(samples: int, draws: int | None, seed: int, chunk_size: int, workers: int):
    """Check the sweep's numeric arguments against :mod:`forecast.bounds`."""
    bounds.SAMPLES.check(samples)
    bounds.DRAWS.check_optional(draws)
    bounds.SEED.check(seed)
    bounds.CHUNK_SIZE.check(chunk_size)
    bounds.WORKERS.check(workers)


def _quiet(done: int, total: int) -> None:
    """Default progress callback: report nothing."""
