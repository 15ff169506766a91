"""A fork server for command-line tests that need a real process: signals, limits, users.

Starting Python and importing compute-gap takes seconds; forking a process that has done so
takes milliseconds. :class:`Forker` starts ``python -m tests.helpers.forker`` once (a fresh
interpreter, unaffected by what the test process did) and asks it to run ``compute-gap``
commands, each in a child of its own, several at once if asked:

- ``forecast.model.fit`` answers from synthetic draws
  (:func:`tests.helpers.synthetic.synthetic_fit`), the report's baseline backtest is skipped
  and sweeps run their Dask workers as threads;
  ``quick=True`` also reuses the shipped dataset loaded once, writes tiny stand-ins for the
  report's figures and evaluates a sweep's chunks in order without Dask; ``stuck=True``
  keeps the real ``fit`` but makes its sampler hang in compiled code;
- ``kill_at=k`` sends ``signal`` to the child just before its k-th file-system change (open
  for writing, rename, link, unlink, mkdir, rmdir, renameat2), so every step of a write can be
  interrupted deterministically; the outcome says how many changes a run made;
- ``pause_on=TEXT`` (with ``pause`` seconds) sleeps at the first change of a path containing
  TEXT, e.g. while holding an output's lock, so another writer can be started meanwhile;
- ``no_exchange=True`` makes the output swap fall back to two renames;
- ``fsize`` sets ``RLIMIT_FSIZE`` (a full disk: writes past it fail with EFBIG), ``nobody``
  drops to uid 65534 (permission errors even when the tests run as root), ``lock_wait``
  shortens the wait for another writer's lock, ``env`` adds environment variables and
  ``timeout`` ends a child that runs longer with SIGALRM. The outcome also reports the
  child's peak memory.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import json
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.paths import ROOT

NOBODY = 65534
_OUTPUT_CHARS = 50_000


@dataclass(frozen=True)
class Outcome:
    """How a child ended: its exit code or signal, output, file-system changes, duration and
    peak resident memory."""

    code: int | None
    signal: int | None
    out: str
    err: str
    ops: int
    seconds: float
    max_rss_mb: float

    @property
    def text(self) -> str:
        """stdout and stderr together."""
        return self.out + self.err


class Forker:
    """Client of the fork server (one per test session)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.forker"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self._done: dict[int, Outcome] = {}
        assert self._read()["ready"]

    def _read(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the fork server died")
        return json.loads(line)

    def start(self, argv: list[str], cwd: Path, **options: object) -> int:
        """Start ``compute-gap ARGV`` in ``cwd``; return the child's pid (see :meth:`wait`)."""
        request = {"argv": [str(a) for a in argv], "cwd": str(cwd), **options}
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        while True:
            reply = self._read()
            if "started" in reply:
                return reply["started"]
            self._keep(reply)

    def _keep(self, reply: dict) -> None:
        pid = reply.pop("pid")
        self._done[pid] = Outcome(**reply)

    def wait(self, pid: int) -> Outcome:
        """The outcome of child ``pid``, once it has ended."""
        while pid not in self._done:
            self._keep(self._read())
        return self._done.pop(pid)

    def run(self, argv: list[str], cwd: Path, **options: object) -> Outcome:
        """Run ``compute-gap ARGV`` in ``cwd`` to the end (options: see the module docstring)."""
        return self.wait(self.start(argv, cwd, **options))

    def close(self) -> None:
        """Stop the server."""
        self._proc.stdin.close()
        self._proc.wait(timeout=30)


# --- the server ----------------------------------------------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = ("replace", "rename", "link", "unlink", "mkdir", "rmdir")


def _ours(args: tuple) -> bool:
    """Whether a change touches the working directory (not a library's scratch space)."""
    path = args[0] if args else None
    if not isinstance(path, str | os.PathLike):
        return False
    return os.path.abspath(path).startswith(os.getcwd())


class _Tripwire:
    """Counts file-system changes; signals this process before the k-th, or pauses at the
    first change whose path contains a given text (to hold a lock while another runs)."""

    def __init__(self, request: dict) -> None:
        self.count = 0
        self.kill_at, self.signum = request.get("kill_at"), request.get("signal", signal.SIGKILL)
        self.pause_on, self.pause = request.get("pause_on"), request.get("pause", 0.0)

    def step(self, args: tuple) -> None:
        if not _ours(args):
            return
        self.count += 1
        if self.count == self.kill_at:
            os.kill(os.getpid(), self.signum)
        if self.pause_on and any(self.pause_on in str(a) for a in args):
            self.pause_on = None
            time.sleep(self.pause)

    def wrap(self, function, changes=lambda *a, **k: True):
        def wrapped(*args, **kwargs):
            if changes(*args, **kwargs):
                self.step(args)
            return function(*args, **kwargs)

        return wrapped

    def install(self) -> None:
        import forecast.io

        writing = lambda file, mode="r", *a, **k: any(c in mode for c in "wax+")  # noqa: E731
        flags = lambda path, flags, *a, **k: bool(flags & _WRITE_FLAGS)  # noqa: E731
        builtins.open = io.open = self.wrap(io.open, writing)
        os.open = self.wrap(os.open, flags)
        for name in _CHANGES:
            setattr(os, name, self.wrap(getattr(os, name)))
        forecast.io._exchange = self.wrap(forecast.io._exchange)


def _stub_figures(specs, directory: Path) -> dict[str, bytes]:
    """Stand-in for the report's figure writer: a few bytes per figure."""
    directory.mkdir()
    images = {}
    for spec in specs:
        for suffix in ("png", "svg"):
            (directory / f"{spec.name}.{suffix}").write_bytes(b"figure " + spec.name.encode())
        images[spec.name] = b"png"
    return images


def in_process(*args: object, **kwargs: object) -> object:
    """Stand-in for the sweep's Dask evaluator: the same chunks, in this process, in order."""
    from forecast.evaluation import InProcessEvaluator

    return InProcessEvaluator()


def _stuck_sampler(model, settings, directory=None):
    """A sampler stuck in compiled code: the main thread runs no Python for minutes."""
    import numba

    Path("sampling").touch()
    spin = numba.njit(nogil=True)(_spin)
    return spin(10**12)


def _spin(n: int) -> float:
    total = 0.0
    for i in range(n):
        total += i * 1e-9
    return total


#: Modules :func:`_patch` changes; the server imports them before forking (imports are lazy).
PATCHED = (
    "distributed", "forecast.cli.models_cmd", "forecast.data", "forecast.io", "forecast.model",
    "forecast.report", "forecast.runner", "forecast.sweeps.run",
)  # fmt: skip


def _patch(request: dict, shipped: object) -> None:
    """Replace the slow parts: the fit, the backtest, Dask processes and (``quick``) the
    figures and the loading of the shipped data; or (``stuck``) make sampling hang."""
    import distributed

    import forecast.cli.models_cmd
    import forecast.data
    import forecast.io
    import forecast.model
    import forecast.runner
    import forecast.sweeps.run
    from forecast.model import fitting
    from tests.helpers.synthetic import synthetic_fit

    if request.get("stuck"):
        from forecast.model import stockflow

        stockflow.build_model = lambda design, config: None
        fitting.sample_model = _stuck_sampler
    else:
        forecast.model.fit = synthetic_fit
    report = importlib.import_module("forecast.report")
    report.quick_backtest = lambda dataset, seed=0: (None, "")
    if request.get("quick"):
        report._write_figures = _stub_figures
        forecast.sweeps.run.DaskEvaluator = in_process
        load = forecast.data.load_dataset
        cached = lambda data_dir=None, until=None: (  # noqa: E731
            shipped if data_dir is None and until is None else load(data_dir, until=until)
        )
        for module in (forecast.data, forecast.runner, forecast.cli.models_cmd):
            module.load_dataset = cached
    local = distributed.LocalCluster
    distributed.LocalCluster = lambda *a, **k: local(*a, **{**k, "processes": False})
    if request.get("lock_wait") is not None:
        forecast.io.LOCK_WAIT_SECONDS = request["lock_wait"]
    if request.get("no_exchange"):
        forecast.io._exchange = lambda a, b: False


def _child(request: dict, out_fd: int, err_fd: int, report_fd: int, shipped: object) -> None:
    """Run one command in the forked child; never returns."""
    code = 70
    tripwire = _Tripwire(request)
    try:
        os.chdir(request["cwd"])
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
        _patch(request, shipped)
        if request.get("fsize") is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (request["fsize"], request["fsize"]))
        if request.get("nobody"):
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        os.environ.update(request.get("env", {}))
        signal.alarm(request.get("timeout", 0))  # a hang ends in SIGALRM
        from forecast.cli import main

        tripwire.install()
        code = main(request["argv"])
    except BaseException:  # what escapes main is the finding: show it as Python would
        import traceback

        traceback.print_exc()
        code = 99
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(report_fd, f"{tripwire.count}\n".encode())
        os._exit(code)


def _drain(fds: list[int]) -> list[str]:
    """Read pipes to their end (the child's stdout and stderr, its count of changes)."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    open_fds = list(fds)
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [])
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if data:
                chunks[fd].append(data)
            else:
                open_fds.remove(fd)
                os.close(fd)
    texts = [b"".join(chunks[fd]).decode("utf-8", "replace") for fd in fds]
    return [t if len(t) <= _OUTPUT_CHARS else t[:_OUTPUT_CHARS] + "\n[...]" for t in texts]


def _watch(pid: int, fds: list[int], start: float, lock: threading.Lock) -> None:
    out, err, ops = _drain(fds)
    _, status, usage = os.wait4(pid, 0)
    reply = {
        "pid": pid, "out": out, "err": err, "ops": int(ops.strip() or -1),
        "code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "seconds": time.perf_counter() - start, "max_rss_mb": usage.ru_maxrss / 1024,
    }  # fmt: skip
    with lock:
        print(json.dumps(reply), flush=True)


def _warm_up() -> None:
    """One run here, so children start with every lazy import done and kernels compiled."""
    import tempfile
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench.analysis.prim  # noqa: F401
        import SALib.analyze.sobol  # noqa: F401

    for name in PATCHED:  # so that _patch, which a child runs before main, takes no time
        importlib.import_module(name)
    import forecast.model
    from forecast.cli import main
    from forecast.sweeps.analysis import design
    from tests.helpers.synthetic import synthetic_fit

    design({"num_vars": 1, "names": ["x"], "bounds": [[0, 1]]}, 8, "sobol", 0)  # SciPy's tables
    real, forecast.model.fit = forecast.model.fit, synthetic_fit
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
        main(["run", "status_quo", "--draws", "5", "--out", f"{scratch}/out"])
    forecast.model.fit = real


def serve() -> None:
    """Import everything once, then fork a child per request read from stdin; a thread per
    child collects its output and reports how it ended."""
    import matplotlib

    matplotlib.use("Agg")
    import forecast.cli
    import forecast.model
    import forecast.report
    import forecast.sweeps

    shipped = forecast.load_dataset()
    _warm_up()
    lock = threading.Lock()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pipes = [os.pipe() for _ in range(3)]
        start = time.perf_counter()
        with lock:
            pid = os.fork()
        if pid == 0:
            for read_fd, _ in pipes:
                os.close(read_fd)
            _child(request, *(w for _, w in pipes), shipped)
        for _, write_fd in pipes:
            os.close(write_fd)
        with lock:
            print(json.dumps({"started": pid}), flush=True)
        fds = [r for r, _ in pipes]
        threading.Thread(target=_watch, args=(pid, fds, start, lock), daemon=True).start()


if __name__ == "__main__":
    serve()
