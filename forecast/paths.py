"""Where the shipped data and scenario library live (a checkout or an installed wheel)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """Return the shipped ``data`` or ``scenarios`` directory.

    From a checkout (or an editable install) this is the top-level folder beside ``forecast/``;
    from an installed wheel it is the copy packed under ``forecast/_shipped/``.

    Parameters
    ----------
    name : str
        ``"data"`` or ``"scenarios"``.

    Returns
    -------
    pathlib.Path
    """
    checkout = _PACKAGE.parent / name
    marker = "series.csv" if name == "data" else "README.md"
    if (checkout / marker).is_file():
        return checkout
    return _PACKAGE / "_shipped" / name
