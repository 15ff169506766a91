"""A tiny document model and its two renderings: self-contained HTML and Markdown.

The report's content is a list of blocks (:class:`Heading`, :class:`Para`, :class:`Bullets`,
:class:`Table`, :class:`FigureRef`) holding plain text only. The renderers escape every piece of
text, so text from data or scenario files can never become markup:

- :func:`to_html`: one HTML file with the figures embedded as base64 PNG, inline CSS that also
  prints well, no JavaScript and no external URL (URL schemes in text are dropped, so a source
  reference ``https://example.org/x`` reads ``example.org/x``);
- :func:`to_markdown`: the same content with the figures as files under ``figures/``.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Text of a link: its label and the id of the heading it points to.
Link = tuple[str, str]


@dataclass(frozen=True)
class Heading:
    """A section heading; ``anchor`` is its id (see :func:`slug`)."""

    level: int
    text: str

    @property
    def anchor(self) -> str:
        """The heading's id, the same as GitHub gives a Markdown heading."""
        return slug(self.text)


@dataclass(frozen=True)
class Para:
    """A paragraph of plain text; ``note`` renders it smaller and grey."""

    text: str
    note: bool = False


@dataclass(frozen=True)
class Bullets:
    """A bulleted list of plain text or links to headings."""

    items: Sequence[str | Link]


@dataclass(frozen=True)
class Table:
    """A table of text cells.

    Attributes
    ----------
    columns : sequence of str
    rows : sequence of sequence of str
    caption : str
    id : str
        HTML id (empty for none).
    numeric : frozenset of int
        Indices of right-aligned columns.
    groups : sequence of (str, int)
        Optional header row above the columns: labels and how many columns each spans
        (Markdown, which has no spans, prefixes the column names with them instead).
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""
    id: str = ""
    numeric: frozenset[int] = field(default_factory=frozenset)
    groups: Sequence[tuple[str, int]] = ()

    def flat_columns(self) -> list[str]:
        """Column names prefixed with their group label (where there is one)."""
        labels = [label for label, span in self.groups for _ in range(span)]
        labels += [""] * (len(self.columns) - len(labels))
        return [f"{g} {c}".strip() for g, c in zip(labels, self.columns, strict=True)]


@dataclass(frozen=True)
class FigureRef:
    """A figure written as ``figures/{name}.png`` and ``.svg``, with its caption."""

    name: str
    caption: str


Block = Heading | Para | Bullets | Table | FigureRef


def slug(text: str) -> str:
    """Heading id as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    kept = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return kept.replace(" ", "-")


_SCHEME = re.compile(r"\b[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


def strip_schemes(text: str) -> str:
    """Drop URL schemes (``https://``, ``ftp://``, ...) so no text becomes a fetchable URL."""
    return _SCHEME.sub("", text)


def escape_html(text: object) -> str:
    """Plain text as HTML: URL schemes dropped, then ``& < > " '`` escaped."""
    return html.escape(strip_schemes(str(text)), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#~])")


def escape_markdown(text: object) -> str:
    """Plain text as Markdown: inline markup characters and HTML backslash-escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


# --- HTML ----------------------------------------------------------------------------------

CSS = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d0d0d0; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 74rem; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; line-height: 1.2; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 0.6rem; padding-top: 0.4rem;
  border-top: 1px solid var(--rule); }
h3 { font-size: 1.08rem; margin: 1.4rem 0 0.4rem; }
p { margin: 0.4rem 0 0.8rem; }
p.note, figcaption, caption { color: var(--muted); font-size: 0.86rem; }
ul { margin: 0.3rem 0 0.9rem; padding-left: 1.3rem; }
ul.toc { columns: 2; font-size: 0.92rem; }
a { color: #1f5fa8; }
.scroll { overflow-x: auto; margin: 0.4rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.88rem; width: 100%; }
caption { text-align: left; padding: 0 0 0.3rem; caption-side: top; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.28rem 0.5rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { background: #f2f4f7; font-weight: 600; }
th[scope="colgroup"] { text-align: center; border-bottom: 2px solid #fff; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table#headline-table { font-size: 0.92rem; }
table#headline-table td, table#headline-table th { padding: 0.3rem 0.4rem; }
table#headline-table td:first-child { font-weight: 600; white-space: nowrap; }
figure { margin: 0.6rem 0 1.4rem; }
figure img { display: block; width: 100%; max-width: 60rem; height: auto;
  border: 1px solid #eee; }
@page { margin: 14mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  .scroll { overflow: visible; }
  td.num, th.num { white-space: normal; }
  ul.toc { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _html_cell(tag: str, text: str, right: bool, scope: str = "") -> str:
    attrs = (' class="num"' if right else "") + (f' scope="{scope}"' if scope else "")
    return f"<{tag}{attrs}>{escape_html(text)}</{tag}>"


def table_html(table: Table) -> str:
    """One table as escaped HTML (also what a notebook shows of a projection)."""
    head = "".join(
        _html_cell("th", c, i in table.numeric, "col") for i, c in enumerate(table.columns)
    )
    body = "\n".join(
        "<tr>" + "".join(_html_cell("td", c, i in table.numeric) for i, c in enumerate(row))
        + "</tr>"
        for row in table.rows
    )  # fmt: skip
    groups = "".join(
        f'<th colspan="{span}" scope="colgroup">{escape_html(label)}</th>'
        for label, span in table.groups
    )
    head = (f"<tr>{groups}</tr>" if groups else "") + f"<tr>{head}</tr>"
    ident = f' id="{escape_html(table.id)}"' if table.id else ""
    caption = f"<caption>{escape_html(table.caption)}</caption>" if table.caption else ""
    return (
        f'<div class="scroll"><table{ident}>{caption}\n<thead>{head}</thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _html_item(item: str | Link) -> str:
    if isinstance(item, tuple):
        label, anchor = item
        return f'<li><a href="#{escape_html(anchor)}">{escape_html(label)}</a></li>'
    return f"<li>{escape_html(item)}</li>"


_NOTE, _TOC = ' class="note"', ' class="toc"'


def _html_block(block: Block, images: Mapping[str, bytes]) -> str:
    if isinstance(block, Heading):
        tag = f"h{block.level}"
        return f'<{tag} id="{escape_html(block.anchor)}">{escape_html(block.text)}</{tag}>'
    if isinstance(block, Para):
        return f"<p{_NOTE if block.note else ''}>{escape_html(block.text)}</p>"
    if isinstance(block, Bullets):
        links = all(isinstance(item, tuple) for item in block.items)
        items = "\n".join(_html_item(item) for item in block.items)
        return f"<ul{_TOC if links else ''}>\n{items}\n</ul>"
    if isinstance(block, Table):
        return table_html(block)
    data = base64.b64encode(images[block.name]).decode("ascii")
    caption = escape_html(block.caption)
    return (
        f'<figure id="fig-{escape_html(block.name)}"><img src="data:image/png;base64,{data}" '
        f'alt="{caption}"><figcaption>{caption}</figcaption></figure>'
    )


def to_html(blocks: Sequence[Block], images: Mapping[str, bytes], title: str) -> str:
    """Render blocks as one self-contained HTML page.

    Parameters
    ----------
    blocks : sequence of Block
    images : mapping of str to bytes
        PNG bytes of every :class:`FigureRef` by name (embedded as data URIs).
    title : str
        The page title.

    Returns
    -------
    str
    """
    body = "\n".join(_html_block(block, images) for block in blocks)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape_html(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# --- Markdown ------------------------------------------------------------------------------


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(escape_markdown(cell) for cell in cells) + " |"


def _md_table(table: Table) -> str:
    rule = ["---:" if i in table.numeric else "---" for i in range(len(table.columns))]
    lines = [_md_row(table.flat_columns()), "| " + " | ".join(rule) + " |"]
    lines += [_md_row(row) for row in table.rows]
    caption = [f"*{escape_markdown(table.caption)}*", ""] if table.caption else []
    return "\n".join([*caption, *lines])


def _md_item(item: str | Link) -> str:
    if isinstance(item, tuple):
        label, anchor = item
        return f"- [{escape_markdown(label)}](#{anchor})"
    return f"- {escape_markdown(item)}"


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {escape_markdown(block.text)}"
    if isinstance(block, Para):
        return f"*{escape_markdown(block.text)}*" if block.note else escape_markdown(block.text)
    if isinstance(block, Bullets):
        return "\n".join(_md_item(item) for item in block.items)
    if isinstance(block, Table):
        return _md_table(block)
    caption = escape_markdown(block.caption)
    return (
        f"![{caption}](figures/{block.name}.png)\n\n*{caption}* ([SVG](figures/{block.name}.svg))"
    )


def to_markdown(blocks: Sequence[Block]) -> str:
    """Render blocks as Markdown (figures referenced as ``figures/NAME.png``)."""
    return "\n\n".join(_md_block(block) for block in blocks) + "\n"
