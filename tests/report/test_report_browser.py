"""A real browser opens report.html from disk: images load, no console errors, no network.

Headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it) is driven over the Chrome
DevTools protocol on ``--remote-debugging-pipe`` (fds 3 and 4, NUL-separated JSON), so no
websocket or browser-automation package is needed. The page itself has no JavaScript; the test
evaluates its checks through the protocol.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import forecast
from forecast.report import write_report
from forecast.scenarios import list_scenarios
from tests.helpers.browser import CHROMIUM, WINDOW, DevTools, page_errors
from tests.helpers.reports import EVIL_SCENARIO, report_inputs, synthetic_projection, with_evil

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)
#: Page facts gathered in the browser after load.
PROBE = """JSON.stringify({
  images: Array.from(document.images, i => [i.complete, i.naturalWidth, i.naturalHeight]),
  rows: document.querySelectorAll('#headline-table tbody tr').length,
  scenarios: Array.from(document.querySelectorAll('#headline-table tbody tr td:first-child'),
                        td => td.textContent),
  scripts: document.scripts.length,
  width: document.documentElement.scrollWidth,
})"""


def open_page(page: Path, profile: Path, screenshot: Path) -> tuple[dict, list[dict]]:
    """Load ``page`` at :data:`WINDOW`, save a screenshot, return the probe and all events."""
    browser = DevTools(CHROMIUM, profile)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        browser.send("Emulation.setDeviceMetricsOverride", session, width=WINDOW[0],
                     height=WINDOW[1], deviceScaleFactor=1, mobile=False)  # fmt: skip
        browser.send("Page.navigate", session, url=page.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        probe = browser.send("Runtime.evaluate", session, expression=PROBE, returnByValue=True)
        shot = browser.send("Page.captureScreenshot", session, format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return json.loads(probe["result"]["value"]), list(browser.events)
    finally:
        browser.close()


def _requests(events: list[dict]) -> list[str]:
    return [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[dict, list[dict], Path, list[str]]:
    projection = synthetic_projection(with_evil(list_scenarios()))
    root = tmp_path_factory.mktemp("browser")
    out = write_report(report_inputs(projection, forecast.load_dataset()), root / "report")
    screenshot = root / "first_screen.png"
    probe, events = open_page(out / "report.html", root / "profile", screenshot)
    return probe, events, screenshot, projection.names


def test_every_image_loads(loaded) -> None:
    probe, _, _, _ = loaded
    assert (
        len(probe["images"]) == 10
    )  # 5 fans, stocks, additions, what binds, attribution, coverage
    assert all(done and width > 0 and height > 0 for done, width, height in probe["images"])


def test_no_console_errors_and_no_network_beyond_the_file(loaded) -> None:
    probe, events, _, _ = loaded
    assert page_errors(events) == []
    assert probe["scripts"] == 0
    assert all(url.startswith(("file:", "data:")) for url in _requests(events))


def test_headline_table_has_one_row_per_scenario(loaded) -> None:
    probe, _, _, names = loaded
    assert probe["rows"] == len(names)
    assert probe["scenarios"] == names  # the HTML-laden name shows as text
    assert EVIL_SCENARIO["name"] in probe["scenarios"]


def test_first_screen_fits_a_laptop_and_is_captured(loaded) -> None:
    probe, _, screenshot, _ = loaded
    assert probe["width"] <= WINDOW[0]  # no horizontal scrolling on a laptop-wide window
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    assert Image.open(screenshot).size == WINDOW
