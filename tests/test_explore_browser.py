"""The explorer as a user gets it: `riskmodel explore` in a subprocess, the page in headless Chromium.

A slider is moved in the page and the probabilities the page then shows are compared, to the
printed digit, with `riskmodel run` on a scenario holding that deal (written by the page's own
"Save as named deal" button) with the same seed and worlds. Needs Debian's chromium
(scripts/install-system-deps.sh test); without it the test skips locally and fails under CI.
"""

from __future__ import annotations

import base64
import csv
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cdp import chromium, chromium_executable

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "data" / "scenarios" / "usmca_2019.yaml"
N_WORLDS, N_REPLICATES, SEED = 400, 20, 7
SIDES = ("us", "mexico", "canada", "joint")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _riskmodel(*args: str, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "riskmodel", *args], cwd=ROOT, **kwargs)


class Tab:
    """One Chromium tab over the DevTools protocol: navigate, evaluate JavaScript, screenshot."""

    def __init__(self, browser_url: str, width: int = 1400, height: int = 1500) -> None:
        import websocket

        self.socket = websocket.create_connection(browser_url, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": self.target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", tab=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            tab=True,
        )

    def call(self, method: str, params: dict[str, Any] | None = None, *, tab: bool = False) -> Any:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if tab:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, tab=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(
            f"{expression} stayed false; page says: {self.evaluate('document.body.innerText')}"
        )

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", {"url": url}, tab=True)
        self.wait_for("document.readyState === 'complete'")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"}, tab=True)["data"])

    def problems(self) -> list[Any]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown" or (
                method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning")
            ):
                found.append(params)
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                found.append(params["entry"])
        return found

    def close(self) -> None:
        self.call("Target.closeTarget", {"targetId": self.target})
        self.socket.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """`riskmodel explore` on a free port, its output folder, and the process (stopped by Ctrl-C)."""
    folder = tmp_path_factory.mktemp("explore")
    port = _free_port()
    log = (folder / "server.log").open("w+")
    process = _riskmodel(
        "explore", str(BUNDLED), "--worlds", str(N_WORLDS), "--replicates", str(N_REPLICATES),
        "--seed", str(SEED), "--port", str(port), "--out", str(folder),
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/config", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"the explorer did not start:\n{log.read()}")
        time.sleep(0.5)
    yield {"url": url, "folder": folder, "process": process, "log": log}
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()


def _run_summary(scenario: Path, folder: Path) -> dict[tuple[str, str], str]:
    """`riskmodel run` on a scenario: each (deal, side)'s P ± MCSE as the run prints it."""
    process = _riskmodel(
        "run", str(scenario), "--worlds", str(N_WORLDS), "--replicates", str(N_REPLICATES),
        "--seed", str(SEED), "--out", str(folder),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    with (folder / "summary.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        (row["deal"], row["side"]): f"{float(row['probability']):.3f} ± {float(row['mcse']):.3f}"
        for row in rows
    }


def _shown(tab: Tab) -> dict[str, str]:
    return {side: tab.evaluate(f"document.getElementById('p-{side}').textContent") for side in SIDES}


def _move(tab: Tab, issue: str, value: str) -> None:
    tab.evaluate(
        f"(() => {{ const s = document.querySelector('input[type=range][data-issue=\"{issue}\"]');"
        f" s.value = '{value}'; s.dispatchEvent(new Event('input', {{bubbles: true}})); }})()"
    )


def test_moving_a_slider_shows_the_run_of_that_deal(server: dict, tmp_path: Path) -> None:
    if not chromium_executable():
        message = "chromium is not installed: run scripts/install-system-deps.sh test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    expected_query = "labour_enforcement=0.63&auto_rvc=70.4&biologics_exclusivity=10"
    with chromium(tmp_path / "profile") as browser:
        tab = Tab(browser)
        tab.navigate(f"{server['url']}/?start=text_2018")
        tab.wait_for("document.body.dataset.shown !== undefined")
        before = _shown(tab)
        _move(tab, "labour_enforcement", "0.63")
        _move(tab, "auto_rvc", "70.4")
        tab.wait_for(f"document.body.dataset.shown === '{expected_query}'")
        after = _shown(tab)
        assert after != before
        # the state is in the URL: a reload shows the same deal and the same numbers
        assert expected_query in tab.evaluate("location.search")
        tab.navigate(tab.evaluate("location.href"))
        tab.wait_for(f"document.body.dataset.shown === '{expected_query}'")
        assert _shown(tab) == after
        # the win-set map finishes in the background while the page answers
        tab.wait_for("document.getElementById('map-status').textContent.startsWith('Agreement zone')", 300)
        tab.wait_for("document.querySelectorAll('#tornado tbody tr').length > 0", 300)
        # keep the deal: the page's button writes a new scenario holding it
        tab.evaluate("document.getElementById('deal-name').value = 'browser_deal'")
        tab.evaluate("document.getElementById('save').click()")
        tab.wait_for("document.getElementById('save-status').dataset.written === 'yes'")
        problems = tab.problems()
        tab.close()
    assert not problems, json.dumps(problems, indent=1)[:3000]
    saved = server["folder"] / "usmca_2019-browser_deal.yaml"
    assert saved.is_file()
    run = _run_summary(saved, tmp_path / "run")
    assert after == {side: run[("browser_deal", side)] for side in SIDES}
    assert before == {side: run[("text_2018", side)] for side in SIDES}


def test_ctrl_c_stops_the_server_cleanly(server: dict) -> None:
    process = server["process"]
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    server["log"].seek(0)
    output = server["log"].read()
    assert "Traceback" not in output, output
    assert "Open http://127.0.0.1:" in output
