"""A real browser drives ``compute-gap explore``: move a lever, check the figure's numbers.

The explorer runs as a command (``compute-gap explore``) on synthetic posterior draws, as the
command-line tests do (``forecast.model.fit`` answers from :mod:`tests.helpers.synthetic`).
Headless Chromium is driven over the DevTools protocol by :mod:`tests.helpers.browser`: the
lever is dragged with real mouse events, then the ratio figure's data in the page is
compared with :func:`forecast.project` of the scenario the page shows, and the saved file is
run by ``compute-gap run``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.explore.desk import Desk, resolve
from forecast.projection import project
from tests.helpers.browser import CHROMIUM, WINDOW, DevTools, page_errors
from tests.helpers.paths import ROOT
from tests.helpers.synthetic import SyntheticFit

pytest.importorskip("dash")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)
#: ``compute-gap explore`` with the fit answered from synthetic draws.
LAUNCH = """import sys
import forecast.model
from tests.helpers.synthetic import synthetic_fit
forecast.model.fit = synthetic_fit
from forecast.cli import main
sys.exit(main(["explore", *sys.argv[1:]]))"""
DRAG_DRAWS = 20
LEVER = "leakage"
SLIDER = json.dumps({"lever": LEVER, "type": "lever-start"}, separators=(",", ":"))
#: The ratio figure's median of the edited scenario (the page's own data).
MEDIAN = """(() => {
  const g = document.querySelector('#fig-ratio .js-plotly-plot');
  const t = g && g.data ? g.data.find(t => t.name === NAME + ': median') : null;
  return t ? JSON.stringify({y: Array.from(t.y), x: Array.from(t.x)}) : null;
})()"""
WATCH_STATUS = """window.statuses = [];
new MutationObserver(() => window.statuses.push(document.getElementById('status').textContent))
  .observe(document.getElementById('status'), {childList: true, subtree: true,
                                                characterData: true});"""


def _start_explorer(directory: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-c", LAUNCH, "--scenarios-dir", str(directory / "mine"),
            "--drag-draws", str(DRAG_DRAWS)]  # fmt: skip
    process = subprocess.Popen(args, cwd=directory, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    deadline, seen = time.monotonic() + 90, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if found:
            return process, found.group()
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"compute-gap explore did not start: {''.join(seen)}")


class Page:
    """One browser tab on the explorer."""

    def __init__(self, browser: DevTools, url: str) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = browser.send("Target.attachToTarget", targetId=target,
                                    flatten=True)["sessionId"]  # fmt: skip
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", self.session)
        browser.send("Emulation.setDeviceMetricsOverride", self.session, width=WINDOW[0],
                     height=WINDOW[1], deviceScaleFactor=1, mobile=False)  # fmt: skip
        browser.send("Page.navigate", self.session, url=url)
        browser.wait_for("Page.loadEventFired")

    def eval(self, expression: str) -> object:
        result = self.browser.send("Runtime.evaluate", self.session, expression=expression,
                                   returnByValue=True, awaitPromise=True)  # fmt: skip
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 30.0) -> object:
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression[:80]}")

    def mouse(self, kind: str, x: float, y: float) -> None:
        self.browser.send("Input.dispatchMouseEvent", self.session, type=kind, x=x, y=y,
                          button="left", buttons=1 if kind != "mouseReleased" else 0,
                          clickCount=1)  # fmt: skip

    def drag_lever(self, start: float, end: float) -> None:
        """Press the lever's slider's track at ``start`` (a fraction of its
        width), drag to ``end`` in steps and release (the row is in view without scrolling:
        headless Chromium hit-tests a scrolled column at its old offset)."""
        track = f"document.getElementById('{SLIDER}')?.querySelector('.dash-slider-root')"
        self.wait(f"{track}?.getBoundingClientRect().width > 100")
        thumb = f"{track}.querySelector('[role=slider]').getAttribute('aria-valuenow')"
        before = self.eval(thumb)
        where = (f"(() => {{ const r = {track}.getBoundingClientRect(); "
                 "return JSON.stringify([r.x, r.y + r.height / 2, r.width]); })()")  # fmt: skip
        for _ in range(3):
            box, last = None, self.eval(where)
            while box != last:  # until the page above stops moving (components load late)
                self.browser.send("Page.captureScreenshot", self.session, format="png")
                time.sleep(0.3)
                box, last = last, self.eval(where)
            x0, y, width = json.loads(box)
            self.mouse("mouseMoved", x0 + start * width, y)
            self.mouse("mousePressed", x0 + start * width, y)
            for step in range(1, 6):  # slow enough for the dragging updates to land
                self.mouse("mouseMoved", x0 + (start + (end - start) * step / 5) * width, y)
                time.sleep(0.4)
            self.mouse("mouseReleased", x0 + end * width, y)
            if self.eval(thumb) != before:
                return
        hit = self.eval(
            f"(() => {{ const e = document.elementFromPoint({x0 + end * width}, {y});"
            " return e ? e.outerHTML.slice(0, 300) : 'nothing'; })()"
        )
        raise AssertionError(f"the slider did not move; at the pointer: {hit} {x0} {y} {width}")

    def type_into(self, element_id: str, text: str) -> None:
        self.eval(f"document.getElementById('{element_id}').focus()")
        self.browser.send("Input.insertText", self.session, text=text)
        self.eval(f"document.getElementById('{element_id}').blur()")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The explorer after a lever was dragged and the scenario saved."""
    directory = tmp_path_factory.mktemp("explore")
    process, url = _start_explorer(directory)
    browser = DevTools(CHROMIUM, directory / "profile")
    try:
        page = Page(browser, url)
        name = "status_quo_edit"
        median = MEDIAN.replace("NAME", json.dumps(name))
        before = json.loads(page.wait(median, timeout=120))  # compiles the engine first
        page.eval(WATCH_STATUS)
        page.drag_lever(0.6, 0.8)
        page.wait(f"document.getElementById('scenario-toml').textContent.includes('{LEVER} =')")
        time.sleep(0.5)  # the release's update (all draws) lands after the last drag's
        page.wait("!document.getElementById('status').textContent.includes('dragging')")
        after = json.loads(page.eval(median))
        toml = page.eval("document.getElementById('scenario-toml').textContent")
        statuses = page.eval("window.statuses")
        page.type_into("rationale", "Enforcement halves smuggling (test).")
        page.wait("document.getElementById('scenario-toml').textContent.includes('test')")
        page.eval("document.getElementById('save').click()")
        saved = page.wait("(() => { const m = document.getElementById('message').textContent;"
                          " return m.startsWith('saved') ? m : null; })()")  # fmt: skip
        shot = browser.send("Page.captureScreenshot", page.session, format="png")
        yield {"before": before, "after": after, "toml": toml, "statuses": statuses,
               "saved": saved, "dir": directory, "events": list(browser.events),
               "screenshot": shot}  # fmt: skip
    finally:
        browser.close()
        process.terminate()
        process.wait(timeout=10)


def test_dragging_a_lever_changes_the_ratio_figure(session) -> None:
    assert session["after"]["y"] != session["before"]["y"]
    statuses = session["statuses"]
    assert any(s.startswith(f"{DRAG_DRAWS} draws (dragging)") for s in statuses), statuses


def test_figure_data_equal_forecast_project_for_the_same_lever_value(session) -> None:
    fields = tomllib.loads(session["toml"])
    value = fields["levers"][LEVER]
    start = Desk(SyntheticFit()).posterior_values(2026)[LEVER]  # where the slider started
    assert isinstance(value, float) and abs(value - start) > 0.1
    scenario = resolve(fields, session["dir"] / "mine")
    projection = project(SyntheticFit(), ["status_quo", scenario], seed=0)
    expected = np.median(projection.values["ratio_us_cn"][1], axis=0)
    assert session["after"]["x"] == projection.years.tolist()
    np.testing.assert_allclose(session["after"]["y"], expected, rtol=1e-9)


def test_no_console_errors(session) -> None:
    """Requests Dash cancels itself (an update superseded by a newer one) are not errors."""
    events = [e for e in session["events"] if not e.get("params", {}).get("canceled")]
    assert page_errors(events) == []


def test_saved_scenario_runs_and_reproduces_the_page(session, forker) -> None:
    path = session["dir"] / "mine" / "status_quo_edit.toml"
    assert str(path) in session["saved"]
    saved = tomllib.loads(path.read_text(encoding="utf-8"))
    assert saved["extends"] == "status_quo"
    assert saved["rationale"][LEVER] == "Enforcement halves smuggling (test)."
    outcome = forker.run(["run", str(path), "status_quo", "--out", "out"], session["dir"],
                         quick=True)  # fmt: skip
    assert outcome.code == 0, outcome.text
    summary = pd.read_csv(session["dir"] / "out" / "summary.csv")
    rows = summary[(summary["scenario"] == "status_quo_edit")
                   & (summary["metric"] == "ratio_us_cn")]  # fmt: skip
    np.testing.assert_allclose(rows["q50"].to_numpy(), session["after"]["y"], rtol=1e-9)
