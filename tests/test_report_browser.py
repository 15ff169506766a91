"""A real browser opens report.html from disk: images load, no console errors, no network.

Headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it) is driven over the Chrome
DevTools protocol on ``--remote-debugging-pipe`` (fds 3 and 4, NUL-separated JSON), so no
websocket or browser-automation package is needed. The page itself has no JavaScript; the test
evaluates its checks through the protocol.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import forecast
from forecast.report import write_report
from forecast.scenarios import list_scenarios
from tests.test_report import EVIL_SCENARIO, report_inputs, synthetic_projection, with_evil

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)
WINDOW = (1280, 900)
TIMEOUT = 60.0
#: Page facts gathered in the browser after load.
PROBE = """JSON.stringify({
  images: Array.from(document.images, i => [i.complete, i.naturalWidth, i.naturalHeight]),
  rows: document.querySelectorAll('#headline-table tbody tr').length,
  scenarios: Array.from(document.querySelectorAll('#headline-table tbody tr td:first-child'),
                        td => td.textContent),
  scripts: document.scripts.length,
  width: document.documentElement.scrollWidth,
})"""


class DevTools:
    """A minimal Chrome DevTools protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_browser_r, self._write = os.pipe()
        self._read, from_browser_w = os.pipe()

        def wire_fds() -> None:  # the browser reads commands on fd 3 and answers on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        args = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, pass_fds=(3, 4), preexec_fn=wire_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise ConnectionError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: object) -> dict:
        """Send one command and return its result; events met meanwhile are kept."""
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        os.write(self._write, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._receive(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, method: str) -> dict:
        """Return the first event named ``method`` (kept or still to come)."""
        deadline = time.monotonic() + TIMEOUT
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (ConnectionError, OSError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._write)
        os.close(self._read)


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


def _errors(events: list[dict]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(f"console: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log: {params['entry'].get('text')}")
        elif method == "Network.loadingFailed":
            found.append(f"failed load: {params.get('errorText')}")
    return found


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
    assert _errors(events) == []
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
