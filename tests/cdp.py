"""A small Chrome DevTools Protocol client: open a page in headless Chromium and record it.

Drives Debian's ``chromium`` over its remote-debugging websocket (``websocket-client``), so
no browser download is needed. Records every network request, console message, uncaught
exception, log entry and JavaScript dialog, evaluates a DOM probe and takes a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-allow-origins=*",
    "--remote-debugging-port=0",
)

DOM_PROBE = """JSON.stringify({
  title: document.title,
  text: document.body.innerText,
  scripts: document.querySelectorAll('script').length,
  handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover]').length,
  iframes: document.querySelectorAll('iframe,object,embed').length,
  images: Array.from(document.images).map(
    i => ({loaded: i.complete && i.naturalWidth > 0, src: i.src.slice(0, 30)})),
  height: document.documentElement.scrollHeight,
})"""


def chromium_executable() -> str | None:
    """Path of a Chromium/Chrome binary on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageRecord:
    """What happened while a page loaded."""

    url: str
    requests: list[str] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    dialogs: list[dict[str, Any]] = field(default_factory=list)
    dom: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""

    @property
    def console_errors(self) -> list[Any]:
        """Console errors/warnings, uncaught exceptions and error-level log entries (CSP, network)."""
        errors: list[Any] = [c for c in self.console if c.get("type") in ("error", "warning", "assert")]
        errors += self.exceptions
        errors += [entry for entry in self.log if entry.get("level") in ("error", "warning")]
        return errors


class _Session:
    def __init__(self, url: str, timeout: float) -> None:
        import websocket

        self.timeout = timeout
        self.socket = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, deadline: float) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            event = json.loads(self.socket.recv())
            self.events.append(event)
            if event.get("method") == method:
                return
        raise TimeoutError(f"no {method} event")

    def drain(self, seconds: float) -> None:
        import websocket

        end = time.monotonic() + seconds
        self.socket.settimeout(0.2)
        try:
            while time.monotonic() < end:
                try:
                    self.events.append(json.loads(self.socket.recv()))
                except websocket.WebSocketTimeoutException:
                    continue
        finally:
            self.socket.settimeout(self.timeout)


@contextlib.contextmanager
def chromium(profile: Path, *, executable: str | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Start headless Chromium with an empty profile; yield its browser websocket URL."""
    binary = executable or chromium_executable()
    if binary is None:
        raise RuntimeError("chromium is not installed (scripts/install-system-deps.sh test)")
    profile.mkdir(parents=True, exist_ok=True)
    log = (profile / "chromium.log").open("wb")
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"], stdout=log, stderr=log
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start; see {profile / 'chromium.log'}")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        yield f"ws://127.0.0.1:{port}{path}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def record_page(
    browser_url: str,
    page: Path,
    *,
    width: int = 1200,
    height: int = 1600,
    timeout: float = 60.0,
    probe: str = DOM_PROBE,
) -> PageRecord:
    """Load a local file in a new tab of a running Chromium and record what it does.

    ``probe`` is the JavaScript expression (returning a JSON string) whose value becomes
    ``PageRecord.dom``; :data:`DOM_PROBE` by default.
    """
    url = page.resolve().as_uri()
    session = _Session(browser_url, timeout)
    try:
        target = session.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        tab = session.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            session.call(f"{domain}.enable", session=tab)
        session.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=tab,
        )
        session.events.clear()
        session.call("Page.navigate", {"url": url}, session=tab)
        session.wait_for("Page.loadEventFired", time.monotonic() + timeout)
        session.drain(0.5)
        dom = session.call("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session=tab)[
            "result"
        ]["value"]
        shot = session.call("Page.captureScreenshot", {"format": "png"}, session=tab)["data"]
        record = PageRecord(url=url, dom=json.loads(dom), screenshot=base64.b64decode(shot))
        for event in session.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                record.requests.append(params["request"]["url"][:200])
            elif method == "Runtime.consoleAPICalled":
                record.console.append({"type": params.get("type"), "args": params.get("args")})
            elif method == "Runtime.exceptionThrown":
                record.exceptions.append(params.get("exceptionDetails", {}))
            elif method == "Log.entryAdded":
                record.log.append(params.get("entry", {}))
            elif method == "Page.javascriptDialogOpening":
                record.dialogs.append(params)
        session.call("Target.closeTarget", {"targetId": target})
        return record
    finally:
        session.socket.close()
