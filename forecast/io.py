"""Safe output: atomic files, and result sets swapped into place as a whole.

A *result set* is a directory that compute-gap wrote (``compute-gap run``, ``report`` and
``sweep`` each write one). Its ``manifest.json`` lists every file of the set with its SHA-256
and is the commit marker: :func:`read_set` verifies it. :func:`result_set` writes a set:

1. it refuses a target that is a file, or a non-empty directory compute-gap did not write
   (no valid manifest) or whose files were changed since, unless ``overwrite`` is given;
2. it takes an advisory lock (``.NAME.lock`` beside the target, removed again) so a second
   writer waits a little, then fails with a message;
3. the caller writes into a staging directory beside the target;
4. :meth:`ResultSet.commit` hashes the files into the manifest, carries over (as hard links)
   every entry of the old target that is not one of its own files, and swaps the staging
   directory with the target in one ``renameat2(RENAME_EXCHANGE)`` (or two renames where the
   file system lacks it, with a restore on the next run).

A reader therefore sees the previous complete set or the new one, never a mix; files of the
user inside or beside the target are never modified or deleted (with ``overwrite``, a user
file of the same name as one of the set's files is replaced). Temporary files and staging
directories carry the writer's process id and are removed on exit, or on the next run once
that process is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import reprlib
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from forecast.errors import OutputError, UsageError

MANIFEST = "manifest.json"
PACKAGE = "compute-gap"
#: Seconds a writer waits for another compute-gap process writing the same target.
LOCK_WAIT_SECONDS = 10.0
#: Most entries a replaced directory may hold that are not compute-gap's (carried as links).
MAX_CARRIED = 10_000
_NAME_CHARS = 100  # of the target's name in temporary names, to stay under 255 bytes
_STALE = re.compile(r"\.cg(?P<pid>\d+)-[^.]*\.(?P<what>tmp|prev)$")


def _temp_prefix(target: Path) -> str:
    return f".{target.name[:_NAME_CHARS]}"


def _temp_name(target: Path, what: str) -> Path:
    """A fresh temporary path beside ``target`` that names this process."""
    token = os.urandom(4).hex()
    return target.parent / f"{_temp_prefix(target)}.cg{os.getpid()}-{token}.{what}"


def _read_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


#: The process's umask, read once (reading it means setting it, which threads would race).
_UMASK = _read_umask()


def _shared_mode(path: Path, directory: bool) -> None:
    """Give a temporary file or directory the mode a normal create would (umask applied)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_UMASK)


def remove(path: Path) -> None:
    """Remove a file or directory tree; gone already is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any error the temporary file is removed and ``target`` is left untouched, so a reader
    never sees a partial file.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(target, "tmp")
    try:
        tmp.touch(exist_ok=False)
        _shared_mode(tmp, directory=False)  # results are meant to be shared
        yield tmp
        os.replace(tmp, target)
    finally:
        remove(tmp)


def write_atomic(target: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def write_json(target: str | Path, content: object) -> Path:
    """Write ``content`` as indented JSON, atomically."""
    text = json.dumps(content, indent=2) + "\n"
    return write_atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: str | Path) -> None:
    """Remove what dead writers left beside ``target``; restore a target they moved away.

    Temporary files and staging directories of ``target`` name their process; those of
    processes still running are left alone. A ``.prev`` directory (the old set, moved aside
    by a writer killed between its two renames) is renamed back when ``target`` is missing.
    """
    target = Path(target)
    prefix = _temp_prefix(target) + ".cg"
    try:
        entries = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for path in sorted(entries):
        match = _STALE.search(path.name)
        if match is None or _alive(int(match["pid"])):
            continue
        if match["what"] == "prev" and not os.path.lexists(target):
            os.rename(path, target)
        else:
            remove(path)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entries(root: Path) -> Iterator[tuple[str, os.DirEntry]]:
    """Every entry under ``root`` (depth first) with its path relative to ``root``."""
    stack = [("", root)]
    while stack:
        prefix, directory = stack.pop()
        with os.scandir(directory) as scan:
            for entry in sorted(scan, key=lambda e: e.name):
                rel = f"{prefix}{entry.name}"
                yield rel, entry
                if entry.is_dir(follow_symlinks=False):
                    stack.append((f"{rel}/", Path(entry.path)))


def _manifest_of(directory: Path) -> dict | None:
    """The directory's manifest if it is a compute-gap result-set manifest, else None."""
    path = directory / MANIFEST
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    ok = isinstance(found, dict) and found.get("package") == PACKAGE
    files = found.get("files") if ok else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return found


@dataclass(frozen=True)
class Target:
    """What is at an output path now.

    Attributes
    ----------
    path : pathlib.Path
    state : str
        ``"missing"``, ``"empty"`` (an empty directory), ``"ours"`` (a result set with a valid
        manifest) or ``"foreign"`` (a non-empty directory without one).
    manifest : dict or None
        The manifest of a result set.
    foreign : list of str
        Entries (relative paths) that are not files of the set: the user's.
    changed : list of str
        Files of the set whose content no longer matches the manifest.
    """

    path: Path
    state: str
    manifest: dict | None = None
    foreign: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def inspect_target(target: str | Path) -> Target:
    """Classify an output path (see :class:`Target`).

    Raises
    ------
    OutputError
        If the path exists but is not a directory, or cannot be read.
    """
    path = Path(target)
    if not os.path.lexists(path):
        return Target(path, "missing")
    if not path.is_dir():
        raise OutputError(f"{path} exists and is not a directory; choose a directory")
    manifest = _manifest_of(path)
    try:
        entries = list(_entries(path)) if manifest else sorted(os.listdir(path))
    except OSError as err:
        raise OutputError(f"cannot read {path}: {err.strerror}") from None
    if not entries:
        return Target(path, "empty")
    if manifest is None:  # its top level is enough to refuse it
        return Target(path, "foreign", foreign=entries)
    own = manifest["files"]
    foreign, changed = [], []
    for rel, entry in entries:
        if entry.is_dir(follow_symlinks=False) or rel == MANIFEST:
            continue
        if rel not in own:
            foreign.append(rel)
        elif not entry.is_file(follow_symlinks=False) or sha256_file(Path(entry.path)) != own[rel]:
            changed.append(rel)
    foreign += [rel for rel, e in entries if e.is_dir(follow_symlinks=False) and _empty(e)]
    return Target(path, "ours", manifest, sorted(foreign), changed)


def _empty(entry: os.DirEntry) -> bool:
    with os.scandir(entry.path) as scan:
        return next(scan, None) is None


def check_target(
    target: str | Path, *, overwrite: bool = False, names: Iterable[str] = ()
) -> Target:
    """Refuse an output path that cannot be replaced safely; call it before any long work.

    Parameters
    ----------
    target : str or pathlib.Path
        The output directory.
    overwrite : bool
        Allow a non-empty directory compute-gap did not write (its entries are kept, except
        those with the name of a file of the new set) and changed files of an earlier set.
    names : iterable of str
        Top-level names the new set will hold, to refuse early a user file of the same name.

    Returns
    -------
    Target

    Raises
    ------
    OutputError
        Naming the path and what is in the way.
    """
    _not_around_cwd(absolute(target))
    found = inspect_target(target)
    if overwrite:
        return found
    hint = "pass --overwrite (overwrite=True) to write there anyway, or choose another --out"
    if found.state == "foreign":
        shown = ", ".join(found.foreign[:5]) + (" ..." if len(found.foreign) > 5 else "")
        raise OutputError(
            f"refusing to write into {found.path}: it holds files compute-gap did not write "
            f"({shown}); {hint}"
        )
    if found.changed:
        raise OutputError(
            f"refusing to replace {found.path}: {', '.join(found.changed[:5])} changed since "
            f"compute-gap wrote them; {hint}"
        )
    clash = sorted(set(names) & set(found.foreign))
    if clash:
        raise OutputError(
            f"refusing to replace {', '.join(clash)} in {found.path}: not written by "
            f"compute-gap; {hint}"
        )
    return found


def absolute(target: str | Path) -> Path:
    """The absolute path of an output directory; a symbolic link is followed, so the
    directory it points to receives the set and the link stays."""
    if not isinstance(target, str | os.PathLike) or "\x00" in str(os.fspath(target)):
        raise UsageError(f"an output directory must be a path, got {reprlib.repr(target)}")
    path = Path(os.path.abspath(target))
    return path.resolve() if path.is_symlink() else path


def _not_around_cwd(path: Path) -> None:
    """Refuse the root, the working directory and its parents: a swap would take the
    directory away from under the shell (and everything in it would become foreign)."""
    if path.parent == path or Path.cwd().resolve().is_relative_to(path.resolve()):
        raise OutputError(
            f"{path} is the working directory or contains it; choose a directory inside it"
        )


def _prepare_parent(target: Path) -> None:
    try:
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True)
    except OSError as err:
        raise OutputError(f"cannot create {target.parent}: {err.strerror}") from None
    if not os.access(target.parent, os.W_OK | os.X_OK) or (
        target.is_dir() and not os.access(target, os.W_OK | os.X_OK)
    ):
        raise OutputError(f"cannot write {target}: permission denied")


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold the advisory lock of ``target`` (``.NAME.lock`` beside it, removed on release).

    The lock file is unlinked while still held; a waiter that then gets the old file's lock
    sees it unlinked and tries again on a new file (filelock checks this), so removing it
    never lets two writers in.
    """
    path = target.parent / f"{_temp_prefix(target)}.lock"
    lock = FileLock(path, timeout=LOCK_WAIT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"another compute-gap process is writing {target} (waited {LOCK_WAIT_SECONDS:g} s); "
            "wait for it to finish or choose another --out"
        ) from None
    except OSError as err:
        raise OutputError(f"cannot lock {target}: {err.strerror}") from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        lock.release()


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is not supported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; the old target ends at ``staging`` (or is removed)."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        return
    aside = _temp_name(target, "prev")  # a restore point should the next rename not happen
    os.rename(target, aside)
    os.rename(staging, target)
    remove(aside)


def _carry(old: Path, new: Path, own: set[str]) -> None:
    """Hard-link every entry of ``old`` that is not one of ``own`` into ``new``.

    Directories are recreated where they hold something carried, or are empty; an entry
    whose path the new set already holds is left behind (the caller checked it may be).

    Raises
    ------
    OutputError
        For too many entries, or a file system that cannot link.
    """
    carried = 0
    for rel, entry in _entries(old):
        is_dir = entry.is_dir(follow_symlinks=False)
        dst = new / rel
        if rel in own or (is_dir and not _empty(entry)) or os.path.lexists(dst):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            dst.mkdir()
            continue
        carried += 1
        if carried > MAX_CARRIED:
            raise OutputError(f"{old} holds over {MAX_CARRIED:,} other files; choose another --out")
        try:
            os.link(entry.path, dst, follow_symlinks=False)
        except OSError as err:
            raise OutputError(f"cannot keep {old / rel} in the new set: {err.strerror}") from None


class ResultSet:
    """A result set being written (see :func:`result_set`).

    Attributes
    ----------
    target : pathlib.Path
        Where the set goes.
    path : pathlib.Path
        The staging directory to write the set's files into.
    kind : str
        ``"run"``, ``"report"`` or ``"sweep"`` (stored in the manifest).
    manifest : dict or None
        The manifest as committed (None before :meth:`commit`).
    """

    def __init__(self, target: Path, path: Path, kind: str, overwrite: bool) -> None:
        self.target, self.path, self.kind = target, path, kind
        self._overwrite = overwrite
        self.manifest: dict | None = None

    def files(self) -> dict[str, str]:
        """SHA-256 of every staged file by relative path (the manifest excluded)."""
        return {
            rel: sha256_file(Path(entry.path))
            for rel, entry in _entries(self.path)
            if rel != MANIFEST and not entry.is_dir(follow_symlinks=False)
        }

    def commit(self, manifest: dict) -> dict:
        """Hash every staged file into ``manifest``, write it, and swap the set into place.

        Entries of the old target that are not its own files are kept (hard-linked into the
        new set).

        Returns
        -------
        dict
            The manifest as written (``package``, ``kind`` and ``files`` added).

        Raises
        ------
        OutputError
            If the target changed meanwhile so that it may no longer be replaced, or a user
            file has the name of a file of the new set (without ``overwrite``).
        """
        files = self.files()
        found = check_target(self.target, overwrite=self._overwrite)
        clash = [rel for rel in found.foreign if rel in files or rel == MANIFEST]
        if clash and not self._overwrite:
            raise OutputError(
                f"refusing to replace {', '.join(clash[:5])} in {self.target}: not written by "
                "compute-gap; pass --overwrite (overwrite=True), or choose another --out"
            )
        staged = _temp_name(self.target, "tmp")
        os.rename(self.path, staged)  # a kept staging directory must never hold an old set
        self.path = staged
        content = {**manifest, "package": PACKAGE, "kind": self.kind, "files": files}
        text = json.dumps(content, indent=2) + "\n"
        (self.path / MANIFEST).write_text(text, encoding="utf-8")
        if found.state in ("ours", "foreign"):
            own = {*found.manifest["files"], MANIFEST} if found.state == "ours" else set()
            _carry(self.target, self.path, own)
            shutil.copymode(self.target, self.path)
        _swap_in(self.path, self.target)
        self.manifest = content
        return content


@contextlib.contextmanager
def result_set(
    target: str | Path,
    kind: str,
    *,
    overwrite: bool = False,
    names: Iterable[str] = (),
    staging: Path | None = None,
) -> Iterator[ResultSet]:
    """Write a result set into a staging directory and swap it into ``target`` on commit.

    Parameters
    ----------
    target : str or pathlib.Path
        The output directory.
    kind : str
        What writes the set (stored in the manifest).
    overwrite : bool
        See :func:`check_target`.
    names : iterable of str
        Top-level names the set will hold (checked before any work).
    staging : pathlib.Path, optional
        A fixed staging directory that survives an interruption (a sweep's partial results);
        default: a fresh temporary directory, removed on exit.

    Yields
    ------
    ResultSet
        Write files under ``.path``, then call ``.commit(manifest)``; without a commit the
        target is left as it was.

    Raises
    ------
    OutputError
        If the target cannot be replaced safely (see :func:`check_target`), cannot be written,
        or another process holds its lock.
    """
    path = absolute(target)
    check_target(path, overwrite=overwrite, names=names)
    _prepare_parent(path)
    with _locked(path):
        clean_stale(path)
        check_target(path, overwrite=overwrite, names=names)
        stage = staging or _temp_name(path, "tmp")
        stage.mkdir(exist_ok=staging is not None)
        _shared_mode(stage, directory=True)
        written = ResultSet(path, stage, kind, overwrite)
        try:
            yield written
        finally:
            if staging is None or written.path != stage:
                remove(written.path)


def add_files(target: str | Path, write: Callable[[Path], object]) -> dict:
    """Add or replace files of the result set at ``target``: a new set, swapped in whole.

    ``write(directory)`` writes the new files into an empty staging directory; the set's
    other files are then hard-linked beside them (never written through).

    Returns
    -------
    dict
        The new manifest.

    Raises
    ------
    OutputError
        If ``target`` is not an intact result set (see :func:`read_set`).
    """
    manifest = read_set(target)
    with result_set(target, manifest["kind"]) as staged:
        write(staged.path)
        for rel in manifest["files"]:
            dst = staged.path / rel
            if not os.path.lexists(dst):
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.link(Path(target) / rel, dst)
        kept = {k: v for k, v in manifest.items() if k not in ("package", "kind", "files")}
        return staged.commit(kept)


def read_set(target: str | Path) -> dict:
    """The manifest of the result set at ``target``, after checking every file's hash.

    Raises
    ------
    OutputError
        If ``target`` is not a compute-gap result set, or a file of the set is missing or
        changed.
    """
    path = Path(target)
    clean_stale(path)
    found = inspect_target(path)
    if found.state != "ours":
        raise OutputError(f"{path} is not a compute-gap result set (no valid {MANIFEST})")
    missing = [rel for rel in found.manifest["files"] if not (path / rel).is_file()]
    bad = found.changed + missing
    if bad:
        raise OutputError(
            f"{path} is damaged: {', '.join(sorted(set(bad))[:5])} missing or changed since "
            "compute-gap wrote them"
        )
    return found.manifest
