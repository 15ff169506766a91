"""The fit cache: one NetCDF file per (data, model configuration, sampler settings, code).

Files live in :func:`cache_dir` (``$COMPUTE_GAP_CACHE``, else ``$XDG_CACHE_HOME/compute-gap``,
else ``~/.cache/compute-gap``), under ``fits/``. The whole InferenceData goes into one
NetCDF-3 file (SciPy's writer, so no HDF5 library is needed): each group's variables and
dimensions are prefixed with the group name, and the key and a checksum of the content
(every variable's values, as read back) are stored inside the file. Writes go to a temporary
file that is renamed into place. A file that cannot be read, lacks a group, carries another
key or does not match its checksum (damaged on disk) is ignored with a warning and rebuilt.
No pickle is used.

The same file is what :meth:`forecast.model.fitting.StockFlowModel.save` writes (with the
configuration hash, the package version, the sampler settings and the data fingerprint as
further attributes): :func:`write` and :func:`read` are the one implementation of the format,
:func:`save` and :func:`load` the cache's keyed use of it. arviz and xarray load on first use.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forecast._version import __version__
from forecast.errors import FitError, OutputError
from forecast.io import clean_stale, write_atomic

if TYPE_CHECKING:
    import xarray as xr
    from arviz import InferenceData

#: Environment variable overriding the cache directory.
CACHE_ENV = "COMPUTE_GAP_CACHE"
#: Groups a cached fit must have.
REQUIRED_GROUPS = ("posterior", "sample_stats")
_SEP = "__"
_KEY_ATTR = "compute_gap_cache_key"
_CHECKSUM_ATTR = "compute_gap_checksum"
_MODEL_SOURCES = ("config.py", "observations.py", "stockflow.py")


class CacheWarning(UserWarning):
    """A cache file was unusable (corrupt, truncated or stale) and will be rebuilt."""


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``override``, ``$COMPUTE_GAP_CACHE`` or the user cache dir.

    Raises
    ------
    OutputError
        If ``override`` is not a path.
    """
    if override is not None:
        if not isinstance(override, str | os.PathLike):
            raise OutputError(f"cache_dir must be a path, got {override!r}")
        return Path(override)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "compute-gap"


@functools.cache
def code_digest() -> str:
    """SHA-256 of the model's source files as first read by this process (the code running),
    so a code change never reuses an old fit."""
    digest = hashlib.sha256(__version__.encode())
    for name in _MODEL_SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def cache_key(data_fingerprint: str, config_key: str, settings: dict) -> str:
    """Hash of everything a fit depends on: data, model configuration, sampler, code."""
    payload = {
        "data": data_fingerprint,
        "config": config_key,
        "settings": settings,
        "version": __version__,
        "code": code_digest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_path(key: str, directory: Path) -> Path:
    """Where the fit with ``key`` is stored."""
    return directory / "fits" / f"fit-{key[:24]}.nc"


def prepare(directory: Path) -> Path:
    """Make sure fits can be stored under ``directory`` before any sampling starts.

    Creates ``directory/fits`` if needed and removes what writers that died left there.

    Raises
    ------
    OutputError
        If the directory is a file, cannot be created or is not writable.
    """
    fits = Path(directory) / "fits"
    try:
        fits.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cache directory {directory}: {err.strerror}") from None
    if not os.access(fits, os.W_OK | os.X_OK):
        raise OutputError(f"cache directory {directory}: not writable")
    for path in fits.glob("fit-*.nc"):
        clean_stale(path)
    return fits


def content_digest(data: xr.Dataset) -> str:
    """SHA-256 of every variable's name, shape and values (the checksum attribute excluded).

    Values are compared as read back from NetCDF-3 (integers and booleans as floats, NaN by
    position), so the digest of a dataset equals that of its saved and reloaded copy.
    """
    digest = hashlib.sha256()
    for name in sorted(map(str, data.variables)):
        values = np.asarray(data[name].values)
        digest.update(f"{name}{values.shape}".encode())
        if values.dtype.kind in "biuf":
            numbers = values.astype(np.float64)
            missing = np.isnan(numbers)
            digest.update(missing.tobytes())
            digest.update(np.where(missing, 0.0, numbers).tobytes())
        else:
            digest.update("\x1f".join(map(str, values.ravel())).encode())
    return digest.hexdigest()


def _flatten(idata: InferenceData, attrs: dict) -> xr.Dataset:
    """One Dataset holding every group, names prefixed ``group__``, with ``attrs``."""
    import xarray as xr

    parts = []
    for group in idata.groups():
        data = idata[group]
        names = {n: f"{group}{_SEP}{n}" for n in [*data.variables, *data.dims]}
        tags = {f"{group}{_SEP}{k}": _attr(v) for k, v in data.attrs.items()}
        parts.append(data.rename(names).assign_attrs(tags))
    merged = xr.merge(parts, combine_attrs="drop_conflicts", compat="override")
    file_attrs = {k: _attr(v) for k, v in attrs.items()}
    merged = merged.assign_attrs({**file_attrs, "groups": ",".join(idata.groups())})
    return merged.assign_attrs({_CHECKSUM_ATTR: content_digest(merged)})


def _attr(value: object) -> object:
    """NetCDF-3 attributes: numbers and text only."""
    return value if isinstance(value, (int, float, str)) else str(value)


def _unflatten(data: xr.Dataset) -> InferenceData:
    import arviz as az

    groups = {}
    for group in str(data.attrs["groups"]).split(","):
        prefix = f"{group}{_SEP}"
        names = [n for n in data.variables if str(n).startswith(prefix)]
        part = data[names].rename({n: str(n)[len(prefix) :] for n in names})
        part = part.rename(
            {d: str(d)[len(prefix) :] for d in part.dims if str(d).startswith(prefix)}
        )
        attrs = {k[len(prefix) :]: v for k, v in data.attrs.items() if k.startswith(prefix)}
        part.attrs = attrs  # the group's own attributes, not the file's
        groups[group] = part
    return az.InferenceData(**groups)


def write(idata: InferenceData, path: Path, attrs: dict) -> Path:
    """Write ``idata`` with the file attributes ``attrs`` (numbers and text) to ``path``
    atomically (temporary file, then rename), with its checksum."""
    flat = _flatten(idata, attrs)
    return write_atomic(path, lambda tmp: flat.to_netcdf(tmp, engine="scipy"))


def read(path: Path) -> tuple[InferenceData, dict]:
    """The InferenceData in the file at ``path`` and the file's attributes.

    Raises
    ------
    FitError
        If the file cannot be read, does not match its checksum (damaged on disk) or lacks
        a group of :data:`REQUIRED_GROUPS`; the message names the file and what is wrong.
    """
    import xarray as xr

    clean_stale(path)
    try:
        with xr.open_dataset(path, engine="scipy") as handle:
            data = handle.load()
        intact = data.attrs.get(_CHECKSUM_ATTR) == content_digest(data)
        idata = _unflatten(data) if intact else None
    except Exception as err:  # any unreadable file: a named FitError, never a crash
        raise FitError(f"{path}: unreadable ({err})") from None
    if idata is None:
        raise FitError(f"{path}: damaged (content does not match its checksum)")
    missing = [g for g in REQUIRED_GROUPS if g not in idata.groups()]
    if missing:
        raise FitError(f"{path}: incomplete (no {missing})")
    return idata, dict(data.attrs)


def save(idata: InferenceData, key: str, path: Path, attrs: dict | None = None) -> Path:
    """Write ``idata`` as the cache entry ``key`` (and ``attrs``) to ``path`` (:func:`write`)."""
    return write(idata, path, {**(attrs or {}), _KEY_ATTR: key})


def load(key: str, path: Path) -> InferenceData | None:
    """The cached fit at ``path`` if it is readable, complete and has ``key``; else None.

    An unusable file (corrupt, truncated, from other inputs) is reported with a
    :class:`CacheWarning` and left to be overwritten.
    """
    if not path.is_file():
        return None
    try:
        idata, attrs = read(path)
    except FitError as err:  # a cache must never stop a fit
        warnings.warn(f"ignoring cache file {err}; refitting", CacheWarning, stacklevel=2)
        return None
    if attrs.get(_KEY_ATTR) != key:
        warnings.warn(
            f"ignoring stale cache file {path} (other inputs); refitting",
            CacheWarning,
            stacklevel=2,
        )
        return None
    return idata
