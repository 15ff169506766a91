"""One evaluation layer: a fit becomes the world the scenarios run on, and evaluators run them.

* :func:`prepare` — fit → posterior draws → the model's world to the horizon → seed streams,
  from one integer seed. ``forecast.project``, ``forecast.sweep``, the explorer and the model's
  posterior predictive all start here, so a named scenario, a sweep sample and the model's own
  forecast share posterior draws and shocks for the same seed.
* :class:`Evaluator` — how a batch of tasks runs (EMA workbench's evaluators are the model):
  :class:`InProcessEvaluator` in this process (``run`` and ``report`` by default), and
  :class:`DaskEvaluator` on a Dask cluster (``sweep`` by default; Dask is imported only
  there). Results never depend on the evaluator.
* :func:`make_manifest` — the provenance every result set starts with.

This module sits just above :mod:`forecast.core`: it imports neither the model (PyMC) nor
the scenario engine.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from forecast import core
from forecast._version import __version__
from forecast.core import ProjectionInputs, World
from forecast.errors import InputError
from forecast.io import PACKAGE

#: The named seed streams of one integer seed, in spawn order: ``draws`` chooses the
#: posterior draws and draws the world's priors, ``baseline`` the shocks of the model's world,
#: ``design`` a sweep's samples, ``bootstrap`` a sweep's Sobol confidence intervals.
STREAMS = ("draws", "baseline", "design", "bootstrap")


def seed_streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Independent seed streams (:data:`STREAMS`) from one integer."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return dict(zip(STREAMS, children, strict=True))


def stream_seed(stream: np.random.SeedSequence) -> int:
    """An integer seed drawn from a stream (for APIs that take an integer)."""
    return int(stream.generate_state(1)[0])


@runtime_checkable
class Posterior(Protocol):
    """Anything that gives posterior draws for the forward model: a fitted model
    (``forecast.model.Fit``) or a stand-in."""

    def projection_inputs(self, n_draws: int | None = None, seed: int = 0) -> ProjectionInputs:
        """``n_draws`` posterior draws (all by default), chosen with ``seed``."""


@dataclass(frozen=True)
class Prepared:
    """The model's world for one fit, horizon and seed, and the seed's other streams.

    Attributes
    ----------
    world : forecast.core.World
        Data years and projection: the posterior draws carried forward with their shocks.
    seed : int
        The integer every stream comes from.
    horizon : int
        Last projected year.
    streams : dict of str to numpy.random.SeedSequence
        :data:`STREAMS`; ``draws`` and ``baseline`` made ``world``.
    """

    world: World
    seed: int
    horizon: int
    streams: dict[str, np.random.SeedSequence] = field(repr=False)

    @property
    def n_draws(self) -> int:
        """Number of posterior draws."""
        return self.world.n_draws

    def rng(self, stream: str) -> np.random.Generator:
        """A generator on one of the other streams (``design``, ``bootstrap``)."""
        return np.random.default_rng(self.streams[stream])


def prepare(
    fit: Posterior | ProjectionInputs, horizon: int, seed: int, draws: int | None = None
) -> Prepared:
    """The model's world for a fit (or its projection inputs) from one integer seed.

    Parameters
    ----------
    fit : Posterior or ProjectionInputs
        A fitted model (``draws`` of its :meth:`~Posterior.projection_inputs`, chosen with the
        ``draws`` stream) or the inputs themselves (used whole).
    horizon : int
        Last projected year.
    seed : int
        One integer for every stream (:func:`seed_streams`).
    draws : int, optional
        Posterior draws (default: all; ignored for inputs).

    Returns
    -------
    Prepared

    Raises
    ------
    InputError
        If ``fit`` is neither a posterior nor projection inputs.
    """
    streams = seed_streams(seed)
    if isinstance(fit, ProjectionInputs):
        inputs = fit
    elif isinstance(fit, Posterior):
        inputs = fit.projection_inputs(n_draws=draws, seed=stream_seed(streams["draws"]))
    else:
        raise InputError(
            f"fit must be a fitted model (forecast.fit) or ProjectionInputs, got "
            f"{type(fit).__name__}"
        )
    world = core.extend(inputs, horizon, np.random.default_rng(streams["baseline"]))
    return Prepared(world, seed, horizon, streams)


def make_manifest(**fields: object) -> dict:
    """Provenance of a result set: package, version and creation time, then ``fields``.

    :func:`forecast.io.result_set` adds the kind of set and every file's SHA-256 on commit.
    """
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {"package": PACKAGE, "version": __version__, "created": created, **fields}


class Evaluator(ABC):
    """Runs a batch of tasks: ``function(shared, task)`` for each task.

    An evaluator is a context manager; entering starts what it needs (a cluster) and leaving
    stops it. Entering again while it is open only counts (the outermost exit stops it), so
    a caller may pass an open evaluator to functions that enter it themselves.

    Attributes
    ----------
    threads : int or None
        Threads a task may use inside the scenario engine: None lets the engine use the
        cores (in-process), 1 on a cluster (its parallelism is its workers).
    """

    threads: int | None = None

    def __init__(self) -> None:
        self._depth = 0

    def __enter__(self) -> Evaluator:
        if self._depth == 0:
            self.start()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.stop()

    def start(self) -> None:  # noqa: B027 (an optional hook)
        """Acquire what tasks need (called on the first ``with``)."""

    def stop(self) -> None:  # noqa: B027 (an optional hook)
        """Release it (called when the last ``with`` ends)."""

    @abstractmethod
    def map(
        self, function: Callable, tasks: Sequence, *, shared: object = None, name: str = "task"
    ) -> Iterator[tuple[int, object]]:
        """Yield ``(i, function(shared, tasks[i]))`` for every task, as each completes.

        Parameters
        ----------
        function : callable
            A module-level function (a cluster pickles it), or a ``functools.partial`` of one.
        tasks : sequence
        shared : object, optional
            Passed to every call; sent to a cluster once.
        name : str
            Label of the tasks (on a cluster's dashboard).
        """


class InProcessEvaluator(Evaluator):
    """Every task in this process, one after the other, in order."""

    def map(
        self, function: Callable, tasks: Sequence, *, shared: object = None, name: str = "task"
    ) -> Iterator[tuple[int, object]]:
        """See :meth:`Evaluator.map`."""
        for i, task in enumerate(tasks):
            yield i, function(shared, task)


def _held(shared: object) -> object:
    """``shared`` itself: a task whose result holds it on a worker (see :class:`DaskEvaluator`)."""
    return shared


class DaskEvaluator(Evaluator):
    """Tasks on a Dask cluster: a given client, a scheduler's address, or a new LocalCluster.

    At most two tasks per worker thread are in flight, so neither the cluster nor this
    process holds more than a few results whatever the number of tasks; a task is retried
    twice on an error, and tasks lost with a dead worker, the shared data included, are
    recomputed by Dask. Leaving
    the ``with`` block (or an exception in the consumer) cancels the tasks still running.

    Parameters
    ----------
    client : distributed.Client or str, optional
        A client, or the address of a scheduler (``tcp://host:8786``); default: a new
        LocalCluster of ``workers`` single-threaded workers, closed on exit.
    workers : int
        Workers of the default LocalCluster.
    processes : bool
        Whether the LocalCluster's workers are processes (else threads).

    Notes
    -----
    A LocalCluster of processes spawns them, so a script using one needs the usual
    ``if __name__ == "__main__":`` guard (or ``processes=False``).
    """

    threads = 1

    def __init__(self, client: object = None, workers: int = 2, processes: bool = True):
        super().__init__()
        self.address, self.workers, self.processes = client, workers, processes
        self.client = None
        self._owned: list = []

    def start(self) -> None:
        """Connect to the cluster (or start a LocalCluster)."""
        import distributed

        if isinstance(self.address, distributed.Client):
            self.client = self.address
            return
        if isinstance(self.address, str):
            self.client = distributed.Client(self.address)
            self._owned = [self.client]
            return
        cluster = distributed.LocalCluster(
            n_workers=self.workers, threads_per_worker=1, processes=self.processes,
            dashboard_address=None, silence_logs=logging.ERROR,
        )  # fmt: skip
        try:
            self.client = distributed.Client(cluster)
        except BaseException:
            cluster.close()
            raise
        self._owned = [self.client, cluster]

    def stop(self) -> None:
        """Close what :meth:`start` opened (a given client stays open)."""
        owned, self._owned, self.client = self._owned, [], None
        for thing in owned:
            thing.close()

    def map(
        self, function: Callable, tasks: Sequence, *, shared: object = None, name: str = "task"
    ) -> Iterator[tuple[int, object]]:
        """See :meth:`Evaluator.map` (the evaluator must be open: ``with evaluator:``)."""
        import dask
        from distributed import as_completed

        if self.client is None:
            raise InputError("a DaskEvaluator runs tasks inside 'with evaluator:'")
        client = self.client
        run = uuid.uuid4().hex  # fresh keys: a key released by an earlier map may still be in use
        # ``shared`` goes to the cluster once, as a task's argument rather than scattered: the
        # scheduler keeps a task's argument and recomputes its result when the worker holding
        # it dies, whereas scattered data is lost with any worker that held it (the scheduler
        # forgets it and cancels every task that needs it; dask/distributed#3149).
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
            data = client.submit(_held, shared, key=f"{name}-{run}-shared", pure=False)
        window = 2 * max(sum(client.nthreads().values()), 1)
        queue = iter(enumerate(tasks))
        in_flight: dict = {}
        completed = as_completed(loop=client.loop)

        def submit() -> None:
            item = next(queue, None)
            if item is None:
                return
            i, task = item
            future = client.submit(
                function, data, task, key=f"{name}-{run}-{i:06d}",
                retries=2,  # transient errors; tasks lost with a worker are rescheduled anyway
            )  # fmt: skip
            in_flight[future.key] = (i, future)
            completed.add(future)

        for _ in range(window):
            submit()
        try:
            for future in completed:
                i, _ = in_flight.pop(future.key)
                result = future.result()
                submit()
                yield i, result
        finally:
            client.cancel([future for _, future in in_flight.values()])
