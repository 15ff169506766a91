"""The report: figures, HTML/Markdown rendering, escaping, atomic output and the CLI.

Everything runs on a synthetic projection (``tests/helpers/synthetic.py``) and the shipped
dataset, with a stand-in for the fit (:class:`FakeFit`): no PyMC sampling.
"""

from __future__ import annotations

import importlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

import forecast
from forecast.cli import main
from forecast.projection import Projection
from forecast.report import REPORT_FILES, write_report
from forecast.report.content import headline
from forecast.report.figures import DPI, FIGSIZE, coverage_table, stock_observations
from forecast.report.render import escape_html, escape_markdown, to_markdown
from forecast.runner import RESULT_FILES, RunResult, build_manifest
from forecast.scenarios import list_scenarios
from tests.helpers.reports import (
    EVIL,
    EVIL_SCENARIO,
    FakeFit,
    report_inputs,
    synthetic_cases,
    synthetic_projection,
    with_evil,
)

SIZE = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))
#: The module (``forecast.report`` itself is the function of the same name).
REPORT_MODULE = importlib.import_module("forecast.report")


@pytest.fixture(scope="module")
def dataset() -> forecast.Dataset:
    return forecast.load_dataset()


@pytest.fixture(scope="module")
def projection() -> Projection:
    return synthetic_projection(with_evil(list_scenarios()))


@pytest.fixture(scope="module")
def built(tmp_path_factory, projection, dataset) -> Path:
    """One complete report directory."""
    return write_report(report_inputs(projection, dataset), tmp_path_factory.mktemp("r") / "out")


def without_data_uris(text: str) -> str:
    """The HTML with base64 image payloads removed (random base64 may spell 'http')."""
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", text)


class NestingChecker(HTMLParser):
    """Parses HTML; records its tags, its text and unbalanced or misnested tags."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


# --- figures -------------------------------------------------------------------------------


def _png_size(fig) -> tuple[int, int]:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return Image.open(buffer).size


@pytest.fixture(scope="module")
def small() -> Projection:
    return synthetic_projection(["status_quo", "tighten", "leaky"], n_draws=50)


@pytest.mark.parametrize("metric", ["ratio_us_cn", "years_behind", "cn_share", "us_h100e"])
def test_plot_fan_returns_axes_of_the_fixed_size(small, metric) -> None:
    ax = forecast.plot_fan(small, metric)
    assert ax.get_title(loc="left") and "(" in ax.get_ylabel() and ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == small.names
    assert _png_size(ax.figure) == SIZE


def test_plot_fan_draws_only_the_chosen_scenarios_into_a_given_axes(small) -> None:
    from forecast.report.figures import new_figure

    ax = new_figure().add_subplot()
    assert forecast.plot_fan(small, "cn_share", scenarios=["tighten"], ax=ax) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tighten", "before levers act"]


def test_plot_fan_rejects_an_unknown_scenario(small) -> None:
    with pytest.raises(forecast.ScenarioError, match="nope"):
        forecast.plot_fan(small, "cn_share", scenarios=["nope"])


def test_plot_stocks_is_log_scaled_with_observations_by_source(small, dataset) -> None:
    ax = forecast.plot_stocks(small, dataset, cutoff=2025)
    assert ax.get_yscale() == "log" and "H100e" in ax.get_ylabel()
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    sources = set(stock_observations(dataset)["source_id"])
    assert {"epoch_ai_chip_counts", "epoch_gpu_clusters"} <= sources <= labels
    assert _png_size(ax.figure) == SIZE


def test_stock_observations_are_year_end_us_and_china_h100e(dataset) -> None:
    obs = stock_observations(dataset)
    assert set(obs["country"]) == {"US", "CN"} and obs["value"].notna().all()
    assert {"clusters_us_h100e", "clusters_cn_h100e"} <= set(obs["series_id"])
    units = dataset.series.set_index("series_id").loc[obs["series_id"], "unit"]
    assert (units == "h100e").all()


def test_plot_additions_has_a_panel_per_scenario(small) -> None:
    fig = forecast.plot_additions(small)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == small.names
    assert _png_size(fig) == SIZE


def test_plot_coverage_bars_match_the_coverage_table() -> None:
    cases = synthetic_cases()
    ax = forecast.plot_coverage(cases)
    table = coverage_table(cases)
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    expected = sorted(round(v, 6) for v in table[["coverage_50", "coverage_90"]].to_numpy().ravel())
    assert heights == expected
    assert _png_size(ax.figure) == SIZE


# --- rendering -------------------------------------------------------------------------------


def test_report_directory_has_every_file(built) -> None:
    names = {p.name for p in built.iterdir()}
    expected = {"report.html", "report.md", "figures", *RESULT_FILES, "summary.xlsx"}
    assert names == set(REPORT_FILES) == expected
    figures = {p.name for p in (built / "figures").iterdir()}
    for stem in ("fan_ratio_us_cn", "stocks", "cn_additions", "backtest_coverage"):
        assert {f"{stem}.png", f"{stem}.svg"} <= figures
    assert not list(built.parent.glob(".*"))  # no temporary directory left behind


def parse(text: str) -> NestingChecker:
    checker = NestingChecker()
    checker.feed(text)
    checker.close()
    return checker


def test_html_is_self_contained_and_parses(built) -> None:
    text = (built / "report.html").read_text(encoding="utf-8")
    assert "http" not in without_data_uris(text).lower()
    page = parse(text)
    assert page.errors == [] and page.stack == []
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == len(list((built / "figures").glob("*.png")))
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)
    links = [attrs["href"] for tag, attrs in page.tags if "href" in attrs]
    assert links and all(href.startswith("#") for href in links)
    assert not {tag for tag, _ in page.tags} & {"script", "link", "iframe", "object"}


def test_html_renders_scenario_and_data_text_as_text(built) -> None:
    page = parse((built / "report.html").read_text(encoding="utf-8"))
    assert {tag for tag, _ in page.tags} <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "ul",
        "li", "a", "div", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure",
        "img", "figcaption",
    }  # fmt: skip
    assert not [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    text = "".join(page.text)
    assert EVIL_SCENARIO["name"] in text and EVIL in text
    assert "example.org/leak?a=1&b=2" in text  # the scheme dropped, the rest kept


def test_markdown_has_the_same_sections_and_its_figures_exist(built) -> None:
    md = (built / "report.md").read_text(encoding="utf-8")
    html_text = (built / "report.html").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert len(headings) == html_text.count("<h2 ")
    for target in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (built / target).is_file()
    assert "<script>" not in md and escape_markdown(EVIL) in md
    assert "What the intervals mean" in md and "split-conformal factor" in md


def test_headline_table_has_one_row_per_scenario(built, projection) -> None:
    text = (built / "report.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="headline-table">.*?</table>', text, flags=re.S).group(0)
    assert table.count("<tr>") == 2 + len(projection.names)  # two header rows


#: ``headline`` of status_quo and tighten on synthetic inputs, seed 0, 100 draws.
RATIO, LAG = "ratio\\_us\\_cn: US / China installed compute", "years\\_behind: China's lag (years)"
HEADLINE_SNAPSHOT = "\n".join(
    [
        "*median (5 %–95 % interval) over posterior draws*",
        "",
        "| scenario | " + " | ".join(f"{g} {y}" for g in (RATIO, LAG) for y in (2027, 2030, 2035))
        + " |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| status\\_quo | 9.36 (6.55–12.3) | 12 (7.04–19.9) | 13.6 (5.97–34) | "
        "5.83 (4.97–6.61) | 7.44 (6.19–8.18) | 9.6 (7.7–11.6) |",
        "| tighten | 12.2 (8.56–15.5) | 27.4 (15.2–42.1) | 59.2 (26.6–184) | "
        "6.49 (5.75–7.14) | 9.33 (8.24–10.4) | 13.4 (11.6–16.2) |",
    ]
)  # fmt: skip


def test_headline_table_snapshot() -> None:
    projection = synthetic_projection(["status_quo", "tighten"])
    assert to_markdown([headline(projection)]) == HEADLINE_SNAPSHOT + "\n"


def test_escape_helpers() -> None:
    assert escape_html("<a href='https://x.org'>&</a>") == (
        "&lt;a href=&#x27;x.org&#x27;&gt;&amp;&lt;/a&gt;"
    )
    assert escape_markdown("a|b *c* [d](e) <f>\nnext") == "a\\|b \\*c\\* \\[d\\](e) \\<f\\> next"


# --- atomic output ---------------------------------------------------------------------------


def test_an_earlier_report_is_replaced_only_when_the_new_one_is_complete(
    tmp_path, small, dataset, monkeypatch
) -> None:
    out = tmp_path / "rep"
    write_report(report_inputs(small, dataset), out)
    before = (out / "report.html").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(REPORT_MODULE, "to_markdown", broken)
    with pytest.raises(RuntimeError, match="rendering failed"):
        write_report(report_inputs(small, dataset), out)
    assert (out / "report.html").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_a_directory_that_is_not_a_report_is_never_replaced(tmp_path, small, dataset) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(forecast.OutputError, match=r"refusing to write into .*\(notes.txt\)"):
        write_report(report_inputs(small, dataset), out)
    assert (out / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]
    write_report(report_inputs(small, dataset), out, overwrite=True)  # the user's file stays
    assert (out / "notes.txt").read_text() == "keep me" and (out / "report.html").is_file()


# --- forecast.report and the CLI ---------------------------------------------------------------


@pytest.fixture
def fake_run(monkeypatch, small, dataset) -> list:
    """``run_scenarios`` answered from the synthetic projection; records its arguments."""
    calls = []

    def run(scenarios, **kwargs):
        calls.append((scenarios, kwargs))
        fit = FakeFit()
        return RunResult(dataset, fit, small, build_manifest(dataset, fit, small), None)

    monkeypatch.setattr(REPORT_MODULE, "run_scenarios", run)
    return calls


def test_cli_report_writes_the_report_and_says_where(tmp_path, fake_run, capsys) -> None:
    out = tmp_path / "cli"
    code = main(["report", "status_quo", "tighten", "--out", str(out), "--seed", "3",
                 "--until", "2025", "--quiet"])  # fmt: skip
    assert code == 0
    assert fake_run[0][0] == ["status_quo", "tighten"]
    assert fake_run[0][1]["seed"] == 3 and fake_run[0][1]["out"] is None
    captured = capsys.readouterr()
    assert str(out.resolve() / "report.html") in captured.out and captured.err == ""
    html_text = (out / "report.html").read_text(encoding="utf-8")
    assert "Baselines naive, ets" in html_text  # the quick backtest ran on the real data


def test_cli_report_refuses_to_overwrite_a_foreign_directory(tmp_path, fake_run, capsys) -> None:
    (tmp_path / "x.txt").write_text("")
    assert main(["report", "--out", str(tmp_path), "--quiet"]) == 2
    assert "refusing to write into" in capsys.readouterr().err
    assert fake_run == []  # refused before fitting
