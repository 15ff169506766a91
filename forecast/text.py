"""User text is data, never markup: escaping for the terminal, figures and file names.

Names, descriptions, rationales, notes and paths come from files and arguments a user wrote.
Before they reach an output they pass through one of these functions, so that no text can
become rich markup, matplotlib mathtext, a terminal escape sequence or a path outside the
output directory. (HTML and Markdown escaping live with their renderers in
:mod:`forecast.report.render`.)
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.markup import escape
from rich.text import Text

from forecast.errors import OutputError

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides
#: and isolates that can make text read differently from what it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
_SLUG_CHARS = 64


def visible(text: object) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u202e``)."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], str(text))


def plain(text: object) -> Text:
    """``text`` for rich: shown as written, never parsed as markup, controls made visible."""
    return Text(visible(text))


def escaped(text: object) -> str:
    """``text`` as rich markup that shows it literally, for APIs that take only markup
    strings (a progress bar's description)."""
    return escape(visible(text))


def for_figure(text: object) -> str:
    """``text`` for a matplotlib label or title: no mathtext, shown in legends.

    Dollar signs are escaped (so ``$...$`` is not parsed as mathtext) and a leading
    underscore, which would hide a legend entry, is preceded by a zero-width space.
    """
    escaped = visible(text).replace("$", r"\$")
    return f"\u200b{escaped}" if escaped.startswith("_") else escaped


def slug(name: str) -> str:
    """A file-name-safe form of ``name``: letters, digits, ``_``, ``.`` and ``-`` only.

    Other runs of characters become ``-``; leading dots and dashes are dropped (no hidden
    files, no ``..``, no option-like names), and the result is at most 64 characters.
    """
    cleaned = _SLUG.sub("-", name).lstrip(".-")[:_SLUG_CHARS].rstrip(".-")
    return cleaned or "unnamed"


def child_path(base: str | Path, name: str) -> Path:
    """``base / slug(name)``, checked to lie inside ``base``.

    Raises
    ------
    OutputError
        If the path would leave ``base``: a slug cannot, but a symbolic link of that name
        already in ``base`` could point anywhere.
    """
    base = Path(base)
    path = base / slug(name)
    if not path.resolve().is_relative_to(base.resolve()):
        raise OutputError(f"{name!r} would write outside {base}")
    return path
