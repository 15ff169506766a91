"""User text is data (``forecast/text.py``): never markup, mathtext, escapes or a path out."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from forecast import OutputError
from forecast.report.figures import new_figure
from forecast.text import child_path, escaped, for_figure, plain, slug, visible


def test_control_characters_become_visible_escapes() -> None:
    assert visible("a\x1b[31mb\x07c\td\ne\u202ef") == "a\\x1b[31mb\\x07c\td\ne\\u202ef"


def test_rich_shows_markup_as_written() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    console.print(plain("mk[/bold]x [red]y\x1b[0m"))
    console.print(escaped("[bold]z[/]"))
    assert out.getvalue() == "mk[/bold]x [red]y\\x1b[0m\n[bold]z[/]\n"


@pytest.mark.parametrize("name", [r"$\undefined{x}$", "$$", "a $ b", "_hidden", "x\x00y"])
def test_figure_text_never_fails_to_draw(name) -> None:
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label=for_figure(name))
    ax.set_title(for_figure(name))
    ax.legend()
    fig.canvas.draw()
    assert ax.get_legend().get_texts()[0].get_text() == for_figure(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("default", "default"), ("../../evil", "evil"), ("/etc/passwd", "etc-passwd"),
     ("..", "unnamed"), ("a b\x1b[c", "a-b-c"), ("x" * 99, "x" * 64)],
)  # fmt: skip
def test_slugs_are_plain_file_names(name, expected) -> None:
    assert slug(name) == expected


def test_a_child_path_stays_inside_its_base(tmp_path) -> None:
    assert child_path(tmp_path, "../x") == tmp_path / "x"
    (tmp_path / "out").symlink_to("/")
    with pytest.raises(OutputError, match="would write outside"):
        child_path(tmp_path, "out")
