"""Ctrl-C and SIGTERM on the command line: stop within seconds, clean up, exit 128 + signal.

While :func:`handled` is active, SIGINT and SIGTERM raise :class:`Interrupted` in the main
thread, so ``finally`` blocks remove staging directories and temporary files. Code stuck in
compiled code (a sampler holding the main thread for minutes) never gets to raise it; a
watchdog thread, woken by the signal through :func:`signal.set_wakeup_fd`, then ends the
process after :data:`GRACE_SECONDS` with one line. Nothing is half-written when that happens:
every file compute-gap writes appears by an atomic rename, and what is left behind is
temporary, named after the dead process, and removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator

#: Seconds the main thread gets to stop by itself before the process is ended.
GRACE_SECONDS = 5.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: unwind (running ``finally`` blocks) and exit.

    Attributes
    ----------
    signum : int
        The signal received; the exit code is ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """``128 + signum`` (130 for Ctrl-C), as a shell reports a signal."""
        return 128 + self.signum


def _raise(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _quiet_unraisable(previous: Callable[[object], object]) -> Callable[[object], None]:
    """An unraisable hook that drops :class:`Interrupted`.

    A signal that lands inside a finaliser (``__del__``, e.g. llvmlite's) cannot unwind the
    main thread: Python would print "Exception ignored in ..." with a traceback. The
    watchdog still ends the process after the grace period, with its one line.
    """

    def hook(unraisable: object) -> None:
        if not isinstance(getattr(unraisable, "exc_value", None), Interrupted):
            previous(unraisable)

    return hook


def _quiet_excepthook(previous: Callable[..., object]) -> Callable[..., None]:
    """An excepthook that drops :class:`Interrupted`.

    Compiled code that cannot pass an exception on (a Cython function declared without
    ``except``, e.g. SciPy's Sobol set-up reading its tables) prints it through
    ``sys.excepthook`` with a full traceback and carries on. The signal is not lost: the
    watchdog heard it, and ends the process after the grace period unless the block is done
    by then.
    """

    def hook(exc_type: type, exc_value: BaseException, traceback: object) -> None:
        if not isinstance(exc_value, Interrupted):
            previous(exc_type, exc_value, traceback)

    return hook


def _next_signal(read_fd: int, timeout: float | None) -> int | None:
    """The next of our signals written to the wakeup pipe; None on end-of-file or timeout."""
    while True:
        ready, _, _ = select.select([read_fd], [], [], timeout)
        byte = os.read(read_fd, 1) if ready else b""
        if not byte:
            return None
        if byte[0] in _SIGNALS:
            return byte[0]


def _watch(read_fd: int, done: threading.Event) -> None:
    """After a signal, give the main thread :data:`GRACE_SECONDS` to finish the block (a
    second signal cuts that short); if it has not, say so and end the process."""
    signum = _next_signal(read_fd, None)
    if signum is None or done.is_set():
        return
    _next_signal(read_fd, GRACE_SECONDS)
    if not done.is_set():
        os.write(2, b"interrupted\n")
        os._exit(128 + signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while compiled code that cannot pass an exception on runs
    (SciPy's Sobol set-up reads its tables through Python code from Cython): a signal that
    arrives meanwhile is raised as :class:`Interrupted` when the block ends, where it can
    unwind. Outside :func:`handled` (or off the main thread) the block runs unchanged."""
    on_main = threading.current_thread() is threading.main_thread()
    if not on_main or signal.getsignal(signal.SIGINT) is not _raise:
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda s, f: caught.append(s)) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            raise Interrupted(caught[0])


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs (main thread
    only; elsewhere the block runs unchanged), with the watchdog described above."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    done = threading.Event()
    previous = {signum: signal.signal(signum, _raise) for signum in _SIGNALS}
    previous_hooks = sys.unraisablehook, sys.excepthook
    sys.unraisablehook = _quiet_unraisable(previous_hooks[0])
    sys.excepthook = _quiet_excepthook(previous_hooks[1])
    old_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watchdog = threading.Thread(target=_watch, args=(read_fd, done), daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        sys.unraisablehook, sys.excepthook = previous_hooks
        signal.set_wakeup_fd(old_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(write_fd)  # the watchdog reads end-of-file and returns
        watchdog.join()
        os.close(read_fd)
