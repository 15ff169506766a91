"""Where a sweep keeps its chunks until it is complete, and how ``resume`` finds them again.

A sweep writes into a *partial* directory beside its output (``.NAME.partial``), which
survives Ctrl-C, SIGKILL or a full disk: ``sweep.json`` (what was asked), ``results/`` (one
Parquet file per finished chunk, each renamed into place when complete) and ``chunks.sha256``
(one ``HASH  results/chunk=....parquet`` line per finished chunk, appended after its rename).
On resume a chunk is reused only if its hash matches its journal line, or, for a chunk of the
complete set already at the output, its manifest entry; anything else is recomputed. When
every chunk is there, the partial directory becomes the output's new result set as a whole
(:func:`forecast.io.result_set`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from forecast.errors import Problem, ScenarioError
from forecast.io import Target, absolute, remove, sha256_file, write_atomic, write_json

RESULTS = "results"
SETTINGS = "sweep.json"
JOURNAL = "chunks.sha256"
#: Manifest fields that must match for ``resume`` to continue a sweep.
RESUME_KEYS = ("spec_sha256", "inputs_sha256", "seed", "samples", "method", "chunk_size",
               "store_draws")  # fmt: skip
_CHUNK = re.compile(r"^results/chunk=(\d{6})\.parquet$")


class ChunkWarning(UserWarning):
    """A stored chunk did not match its recorded hash and is computed again."""


def partial_dir(out: Path) -> Path:
    """The directory beside ``out`` that holds an unfinished sweep."""
    out = absolute(out)
    return out.parent / f".{out.name[:100]}.partial"


def chunk_name(chunk: int) -> str:
    """Path of chunk ``chunk`` relative to the sweep directory."""
    return f"{RESULTS}/chunk={chunk:06d}.parquet"


def save_chunk(directory: Path, chunk: int, table: pa.Table) -> None:
    """Write one chunk atomically, then record its hash in the journal."""
    name = chunk_name(chunk)
    write_atomic(directory / name, functools.partial(pq.write_table, table))
    with open(directory / JOURNAL, "a", encoding="utf-8") as journal:
        journal.write(f"{sha256_file(directory / name)}  {name}\n")


def _journal(directory: Path) -> dict[str, str]:
    """Recorded hashes by chunk path; a torn or foreign line is ignored."""
    try:
        lines = (directory / JOURNAL).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return {}
    pairs = (line.split("  ", 1) for line in lines)
    return {pair[1]: pair[0] for pair in pairs if len(pair) == 2}


def _mismatch(file: Path, manifest: dict, found: dict) -> ScenarioError | None:
    """The error for resuming a sweep other than the one in ``file`` (None if the same)."""
    differ = [
        f"{key}: {found.get(key)!r} there, {manifest[key]!r} now"
        for key in RESUME_KEYS
        if found.get(key) != manifest[key]
    ]
    if not differ:
        return None
    message = f"cannot resume {file.parent}: it holds a different sweep ({'; '.join(differ)})"
    return ScenarioError(Problem(file.name, None, message))


def _settings(directory: Path) -> dict | None:
    """What the partial sweep in ``directory`` was asked to do (None if nothing started)."""
    try:
        found = json.loads((directory / SETTINGS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # nothing started, or a start killed before its settings were written
    return found if isinstance(found, dict) else None


def continued(directory: Path, manifest: dict, resume: bool, overwrite: bool) -> dict | None:
    """The settings of the interrupted sweep in ``directory`` to continue, or None to start.

    Raises
    ------
    ScenarioError
        If an interrupted sweep is there and neither ``resume`` nor ``overwrite`` is given,
        or ``resume`` (without ``overwrite``) is given for a different sweep.
    """
    found = _settings(directory)
    if found is None or (overwrite and not resume):
        return None
    if not resume:
        message = (
            f"an interrupted sweep is kept in {directory}; pass --resume to finish it, or "
            "--overwrite to start again"
        )
        raise ScenarioError(Problem(SETTINGS, None, message))
    error = _mismatch(directory / SETTINGS, manifest, found)
    if error and not overwrite:
        raise error
    return None if error else found


def reusable(
    existing: Target, manifest: dict, resume: bool, overwrite: bool, continuing: bool
) -> dict | None:
    """The manifest of the complete sweep at the output whose chunks may be reused, or None.

    Raises
    ------
    ScenarioError
        If the output holds a sweep and neither ``resume`` nor ``overwrite`` is given, or
        ``resume`` alone is given for a different sweep (a continued interrupted sweep, or
        ``overwrite``, replaces it).
    """
    if existing.state != "ours" or existing.manifest.get("kind") != "sweep":
        return None
    label = existing.path / "manifest.json"
    if not resume and not overwrite:
        message = (
            f"{existing.path} already holds a sweep; pass --resume to finish it, --overwrite to "
            "replace it, or choose another --out"
        )
        raise ScenarioError(Problem(label.name, None, message))
    error = _mismatch(label, manifest, existing.manifest)
    if error and not (continuing or overwrite):
        raise error
    return None if error or not resume else existing.manifest


def open_partial(directory: Path, settings: dict, continuing: bool) -> dict:
    """Start the partial sweep in ``directory`` afresh (unless ``continuing``); return its
    settings."""
    if not continuing:
        for entry in list(directory.iterdir()):
            remove(entry)
        write_json(directory / SETTINGS, settings)
    return settings


def reuse(directory: Path, out: Path, committed: dict | None) -> None:
    """Link the intact chunks of the complete set at ``out`` into the partial ``directory``."""
    if committed is None:
        return
    (directory / RESULTS).mkdir(exist_ok=True)
    recorded = _journal(directory)
    with open(directory / JOURNAL, "a", encoding="utf-8") as journal:
        for name, digest in committed["files"].items():
            source = out / name
            if not _CHUNK.match(name) or name in recorded or not source.is_file():
                continue
            if sha256_file(source) == digest:
                remove(directory / name)  # an unrecorded file there is not to be trusted
                os.link(source, directory / name)
                journal.write(f"{digest}  {name}\n")


def finished(directory: Path, chunks: int) -> set[int]:
    """Chunks in ``directory`` whose content matches the journal; remove every other file.

    A chunk whose hash does not match is reported with a :class:`ChunkWarning`.
    """
    results = directory / RESULTS
    results.mkdir(exist_ok=True)
    recorded = _journal(directory)
    done = set()
    for path in sorted(results.iterdir()):
        name = f"{RESULTS}/{path.name}"
        match = _CHUNK.match(name)
        if match and int(match[1]) < chunks and recorded.get(name) == sha256_file(path):
            done.add(int(match[1]))
            continue
        if match and name in recorded:
            warnings.warn(f"{path} is damaged; computing it again", ChunkWarning, stacklevel=2)
        remove(path)
    return done


def close(directory: Path) -> None:
    """Remove the bookkeeping files, leaving only what the result set holds."""
    for name in (SETTINGS, JOURNAL):
        (directory / name).unlink(missing_ok=True)
