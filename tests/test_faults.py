"""Fault injection: SIGINT and SIGKILL at the write steps of run, report and sweep, at random
times, two writers at once, a full disk, a damaged cache, Ctrl-C while the sampler is stuck.

After every fault the output holds the previous complete result set or the new complete one,
never a mix; every file of the user (beside the output and inside it) is unchanged; and what
a killed process left behind is temporary and gone after the next run. The commands run in
children of the fork server (``tests/helpers/forker.py``) on synthetic posterior draws.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pytest

from forecast.io import clean_stale, read_set
from forecast.model import cache
from tests.helpers.paths import ROOT
from tests.helpers.sweeps import SMALL_TOML

#: Files that identify a run's content: the same seed gives the same bytes.
KEY_FILES = {
    "run": ("summary.csv", "draws.parquet"),
    "report": ("summary.csv", "draws.parquet", "report.md"),
    "sweep": tuple(f"results/chunk={c:06d}.parquet" for c in range(5)),
}
#: The user's files: beside the output and inside it.
USER_FILES = {"user.txt": "my notes, not compute-gap's", "out/notes.txt": "mine too"}
#: Entries a case directory may hold besides the output and the user's files: a killed
#: writer's lock file, a sweep's partial directory (what --resume continues).
ALLOWED = {".out.lock", ".out.partial", "small.toml"}
OLD, NEW = 1, 2


def argv(command: str, seed: int) -> list[str]:
    """The command line of ``command`` with a seed; small enough to run in a second."""
    common = ["--draws", "20", "--out", "out", "--seed", str(seed)]
    if command == "sweep":
        sizes = ["--samples", "8", "--chunk-size", "8", "--workers", "1"]
        return ["sweep", "small.toml", *sizes, *common, "--overwrite"]
    quiet = ["--quiet"] if command == "report" else []
    return [command, "status_quo", "tighten", *common, *quiet]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scrub(text: str) -> str:
    """Drop the lines of report.md that name the run's time (the rest is deterministic)."""
    return "\n".join(line for line in text.splitlines() if "created" not in line)


def key_digests(out: Path, command: str) -> dict[str, str]:
    """Digests of the key files of the set in ``out`` (report.md without its time stamp)."""
    found = {}
    for rel in KEY_FILES[command]:
        path = out / rel
        text = scrub(path.read_text(encoding="utf-8")) if rel.endswith(".md") else None
        found[rel] = hashlib.sha256(text.encode()).hexdigest() if text else digest(path)
    return found


@dataclass(frozen=True)
class Template:
    """A directory holding the previous complete set (seed OLD) and the user's files, and the
    key digests of the sets of both seeds."""

    path: Path
    command: str
    expected: dict[int, dict[str, str]]
    ops: int

    def case(self, directory: Path) -> Path:
        """A fresh copy of the template."""
        shutil.copytree(self.path, directory, symlinks=True)
        return directory


def make_template(forker, root: Path, command: str) -> Template:
    """Write the template and a reference run of the new seed; count the new run's steps."""
    expected = {}
    for seed, name in ((OLD, "template"), (NEW, "reference")):
        directory = root / name
        directory.mkdir()
        (directory / "small.toml").write_text(SMALL_TOML)
        outcome = forker.run(argv(command, seed), directory, quick=True)
        assert outcome.code == 0, outcome.text
        expected[seed] = key_digests(directory / "out", command)
    for rel, text in USER_FILES.items():
        (root / "template" / rel).write_text(text)
    counted = forker.run(argv(command, NEW), Template(root / "template", command, {}, 0).case(
        root / "count"), quick=True)  # fmt: skip
    assert counted.code == 0, counted.text
    return Template(root / "template", command, expected, counted.ops)


def check(case: Path, template: Template) -> int:
    """Assert the invariants after a fault; return the seed of the set the output holds."""
    manifest = read_set(case / "out")  # every file matches the manifest (restores a .prev)
    for rel, text in USER_FILES.items():
        assert (case / rel).read_text() == text, f"user file {rel} changed"
    seed = manifest["seed"]
    assert seed in (OLD, NEW)
    got = {rel: manifest["files"].get(rel) for rel in template.expected[seed]}
    if template.command == "report":
        got = key_digests(case / "out", "report")
    assert got == template.expected[seed], "the output mixes files of two runs"
    clean_stale(case / "out")
    extra = {p.name for p in case.iterdir()} - {"out", "user.txt"} - ALLOWED
    assert not extra, f"left behind: {extra}"
    return seed


def finish(forker, case: Path, template: Template) -> None:
    """The next run completes the work and leaves nothing temporary behind."""
    command = argv(template.command, NEW)
    resume = ["--resume"] if template.command == "sweep" else []
    outcome = forker.run([*command, *resume], case, quick=True)
    assert outcome.code == 0, outcome.text
    assert check(case, template) == NEW
    leftovers = {p.name for p in case.iterdir()} - {"out", "user.txt", "small.toml"}
    assert not leftovers, f"the next run left {leftovers}"


@pytest.fixture(scope="module")
def templates(forker, tmp_path_factory) -> dict[str, Template]:
    root = tmp_path_factory.mktemp("templates")
    made = {}
    for command in KEY_FILES:
        (root / command).mkdir()
        made[command] = make_template(forker, root / command, command)
    return made


def run_cases(forker, template: Template, root: Path, steps, **options) -> list:
    """Run the new seed in a fresh copy of the template per kill step, two at a time (the
    machine has two cores); return ``(step, case, outcome)`` in order."""
    cases = {k: template.case(root / f"k{k}") for k in steps}
    pending, results = list(cases), []
    running: list[tuple[int, int]] = []
    while pending or running:
        while pending and len(running) < 2:
            k = pending.pop(0)
            pid = forker.start(argv(template.command, NEW), cases[k], quick=True, kill_at=k,
                               **options)  # fmt: skip
            running.append((k, pid))
        k, pid = running.pop(0)
        results.append((k, cases[k], forker.wait(pid)))
    return sorted(results, key=lambda r: r[0])


#: Kill steps: every one of a run (SIGKILL), every third to twelfth elsewhere, to keep the
#: suite within a minute or two.
STRIDE = {"run": (1, 3), "report": (5, 5), "sweep": (12, 12)}


@pytest.mark.parametrize("command", list(KEY_FILES))
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_fault_at_every_write_step(forker, templates, tmp_path, command, signum) -> None:
    template = templates[command]
    stride = STRIDE[command][signum == signal.SIGINT]
    steps = range(1, template.ops + 1, stride)
    seen = set()
    for k, case, outcome in run_cases(forker, template, tmp_path, steps, signal=signum):
        assert "Traceback" not in outcome.text, outcome.text
        if signum == signal.SIGINT:
            assert outcome.code in (0, 130), outcome.text
        seen.add(check(case, template))
        if k % 9 == 1:
            finish(forker, case, template)
    assert seen == {OLD, NEW}, "the faults should hit before and after the swap"


def test_fault_without_rename_exchange(forker, templates, tmp_path) -> None:
    """Where the file system cannot swap two directories, two renames and a restore."""
    template = templates["run"]
    steps = range(1, template.ops + 1, 3)
    for _, case, outcome in run_cases(forker, template, tmp_path, steps, no_exchange=True):
        assert outcome.signal == signal.SIGKILL or outcome.code == 0, outcome.text
        check(case, template)


@pytest.mark.parametrize("command", list(KEY_FILES))
def test_signals_at_random_times(forker, templates, tmp_path, command) -> None:
    template = templates[command]
    rng = random.Random(15)
    probe = forker.run(argv(command, NEW), template.case(tmp_path / "probe"), quick=True)
    for i in range(3):
        case = template.case(tmp_path / f"t{i}")
        pid = forker.start(argv(command, NEW), case, quick=True)
        time.sleep(rng.uniform(0, probe.seconds))
        with contextlib.suppress(ProcessLookupError):  # it may have finished already
            os.kill(pid, (signal.SIGINT, signal.SIGKILL)[i % 2])
        outcome = forker.wait(pid)
        assert "Traceback" not in outcome.text, outcome.text
        check(case, template)


def test_two_writers_at_once(forker, templates, tmp_path) -> None:
    """The second writer waits for the first's lock, or gives up with a message."""
    template = templates["run"]
    for wait, expected in ((0.3, 2), (60.0, 0)):
        case = template.case(tmp_path / f"wait{wait}")
        first = forker.start(argv("run", NEW), case, quick=True, pause_on=".cg", pause=3)
        wait_for(case / ".out.lock")  # the first writer holds the lock (and pauses)
        second = forker.run(argv("run", OLD), case, quick=True, lock_wait=wait)
        assert forker.wait(first).code == 0
        assert second.code == expected, second.text
        if expected == 2:
            assert "another compute-gap process is writing" in second.err
        assert check(case, template) == (NEW if expected == 2 else OLD)


def wait_for(path: Path, seconds: float = 60) -> None:
    """Return once ``path`` exists (a child has got that far)."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("command", list(KEY_FILES))
@pytest.mark.parametrize("limit", [0, 800])
def test_full_disk(forker, templates, tmp_path, command, limit) -> None:
    """Writes past RLIMIT_FSIZE fail: a message, exit 1, the previous set intact."""
    case = templates[command].case(tmp_path / "case")
    outcome = forker.run(argv(command, NEW), case, quick=True, fsize=limit)
    assert outcome.code == 1, outcome.text
    assert "File too large" in outcome.err and "Traceback" not in outcome.text
    assert check(case, templates[command]) == OLD


def test_read_only_output_and_unreadable_input(forker, templates) -> None:
    """Permission problems end in exit 2 and a message (as user nobody: root reads anything)."""
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch).chmod(0o755)
        _permissions(forker, templates["run"], Path(scratch))


def _permissions(forker, template: Template, tmp_path: Path) -> None:
    case = template.case(tmp_path / "case")
    for path in (case, *case.rglob("*")):
        path.chmod(0o555 if path.is_dir() else 0o444)
    outcome = forker.run(argv("run", NEW), case, quick=True, nobody=True)
    assert outcome.code == 2 and "cannot write" in outcome.err, outcome.text
    data = case.parent / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "sources.csv").chmod(0o000)
    outcome = forker.run(["data", "--data-dir", data], tmp_path, nobody=True)
    assert outcome.code == 2 and "sources.csv: cannot read" in outcome.err, outcome.text
    case.chmod(0o755)
    assert check(case, template) == OLD


# --- the fit cache and interrupted sampling ----------------------------------------------------


def fake_idata(seed: int = 0) -> az.InferenceData:
    rng = np.random.default_rng(seed)
    idata = az.from_dict(
        posterior={"a": rng.normal(size=(2, 30, 3)), "b": rng.normal(size=(2, 30))},
        sample_stats={"diverging": rng.random((2, 30)) < 0.1},
    )
    idata.posterior.attrs["free_variables"] = "a,b"
    return idata


@pytest.mark.parametrize("where", [0.3, 0.6, 0.95])
def test_a_damaged_cache_file_is_refitted_with_a_warning(tmp_path, where) -> None:
    key = "k" * 64
    path = cache.cache_path(key, cache.prepare(tmp_path))
    cache.save(fake_idata(), key, path)
    assert cache.load(key, path) is not None
    raw = bytearray(path.read_bytes())
    at = int(len(raw) * where)
    raw[at : at + 8] = bytes(255 - b for b in raw[at : at + 8])
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.load(key, path) is None
    assert any(issubclass(w.category, cache.CacheWarning) for w in caught)


def test_cache_dir_that_is_a_file_fails_before_any_work(forker, tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    outcome = forker.run(["fit", "--cache-dir", "file"], tmp_path, stuck=True)
    assert outcome.code == 2 and "cache directory file" in outcome.err, outcome.text
    assert not (tmp_path / "sampling").exists()


def test_ctrl_c_stops_a_stuck_sampler_within_seconds(forker, tmp_path) -> None:
    from forecast.interrupt import GRACE_SECONDS

    pid = forker.start(["fit", "--cache-dir", "cache"], tmp_path, stuck=True)
    wait_for(tmp_path / "sampling")
    sent = time.monotonic()
    os.kill(pid, signal.SIGINT)
    outcome = forker.wait(pid)
    assert time.monotonic() - sent < GRACE_SECONDS + 5  # some slack for a busy machine
    assert outcome.code == 130 and outcome.err.strip() == "interrupted", outcome.text
    fits = tmp_path / "cache" / "fits"
    assert not list(fits.iterdir()), "a partial cache entry was left"


def test_a_signal_inside_a_finaliser_prints_no_traceback(monkeypatch) -> None:
    """Ctrl-C that lands in a ``__del__`` (llvmlite's, say) is dropped quietly; other
    unraisable errors still reach the hook, and the hook is restored afterwards."""
    from forecast.interrupt import Interrupted, handled

    seen: list[type] = []

    def record(unraisable) -> None:
        seen.append(unraisable.exc_type)

    class Finaliser:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    monkeypatch.setattr(sys, "unraisablehook", record)
    with handled():
        obj = Finaliser(Interrupted(signal.SIGINT))
        del obj
        obj = Finaliser(ValueError("real"))
        del obj
    assert seen == [ValueError]
    assert sys.unraisablehook is record


def test_a_signal_in_a_deferred_block_is_raised_when_it_ends() -> None:
    """Compiled code that would swallow Ctrl-C (SciPy's Sobol set-up) runs deferred: the
    signal is raised as Interrupted after the block, where it can unwind, not inside it."""
    from forecast.interrupt import Interrupted, deferred, handled

    reached = []
    with pytest.raises(Interrupted), handled():
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here, and only records the signal
            reached.append("end of block")
        reached.append("after the block")
    assert reached == ["end of block"]


def test_a_signal_inside_compiled_code_that_swallows_it_prints_no_traceback(capfd) -> None:
    """Ctrl-C that lands in Cython code which cannot pass it on (SciPy's Sobol set-up): it
    prints the exception with ``PyErr_PrintEx``, i.e. through ``sys.excepthook``, and goes on.
    That print is dropped for Interrupted only; the hook is restored afterwards."""
    from forecast.interrupt import Interrupted, handled

    def print_ex(error: BaseException) -> None:  # PyErr_PrintEx's call, as Cython makes it
        try:
            raise error
        except BaseException:
            sys.excepthook(*sys.exc_info())

    hook = sys.excepthook
    with handled():
        print_ex(Interrupted(signal.SIGINT))
        print_ex(ValueError("real"))
    assert sys.excepthook is hook
    err = capfd.readouterr().err
    assert "ValueError: real" in err
    assert "Interrupted" not in err and "SIGINT" not in err
