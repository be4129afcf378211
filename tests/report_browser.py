"""Render an HTML report in headless Chromium (Debian's `chromium`) through the DevTools
protocol over a pipe, measure the page and take full-page screenshots.

Used by tests/test_report_browser.py; also by hand:

    python tests/report_browser.py results/report/index.html   # screenshots beside it
"""

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)
# Measured in the page once every image has decoded: sizes, where the at-a-glance table
# starts, each image's natural width, and any resource the page fetched (none: self-contained).
MEASURE = """(async () => {
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  const glance = document.querySelector('#glance table');
  return {
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    viewport: window.innerWidth,
    glance_top: glance ? glance.getBoundingClientRect().top + window.scrollY : null,
    image_widths: [...document.images].map(img => img.naturalWidth),
    resources: performance.getEntriesByType('resource').map(r => r.name),
    details: document.querySelectorAll('details').length,
  };
})()"""
SHOT_HEIGHT = 8000  # px per screenshot: Chromium's captures stay reliable below 16384


def chromium() -> str | None:
    """The Chromium executable, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Rendering:
    """What the page measured, with the console errors seen while loading it."""

    width: int
    height: int
    viewport: int
    glance_top: float | None
    image_widths: list[int]
    resources: list[str]
    details: int
    errors: list[str] = field(default_factory=list)


class DevTools:
    """A headless Chromium driven over --remote-debugging-pipe (fds 3 and 4 of the child)."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout, self.next_id, self.events = timeout, 0, []
        self.buffer = b""
        to_child, self.to_browser = os.pipe()
        self.from_browser, from_child = os.pipe()
        # Chromium's helpers may still write to the profile while it is removed.
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True)

        def wire() -> None:  # in the child: its fds 3 and 4 are the two pipe ends
            read, write = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_child, from_child))
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            pass_fds=(3, 4, to_child, from_child),  # 3 and 4: set by wire, kept open
        )
        os.close(to_child)
        os.close(from_child)

    def __enter__(self) -> "DevTools":
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self.to_browser)
        os.close(self.from_browser)
        self.profile.cleanup()

    def _message(self, deadline: float) -> dict[str, Any]:
        """The next message from the browser."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (code {self.process.poll()})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its result (events meanwhile are kept)."""
        self.next_id += 1
        command = {"id": self.next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        os.write(self.to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._message(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for an event (or take it if it came already)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._message(deadline))

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads reported so far."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                found.append(" ".join(str(a.get("value", "")) for a in params["args"]))
            elif event.get("method") == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found


def open_page(browser: DevTools, url: str, width: int, height: int) -> str:
    """A new tab of `width` x `height` CSS pixels showing `url`; its session id."""
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.send("Page.navigate", session, url=url)
    browser.wait_for("Page.loadEventFired")
    return session


def measure(browser: DevTools, session: str) -> Rendering:
    """Measure the page as it is now."""
    result = browser.send(
        "Runtime.evaluate", session, expression=MEASURE, awaitPromise=True, returnByValue=True
    )
    return Rendering(**result["result"]["value"], errors=browser.errors())


def screenshots(browser: DevTools, session: str, size: Rendering, stem: Path) -> list[Path]:
    """Full-page PNGs of the page as it is, in slices of SHOT_HEIGHT px: <stem>-1.png, ..."""
    paths = []
    for index, top in enumerate(range(0, size.height, SHOT_HEIGHT), start=1):
        clip = {
            "x": 0,
            "y": top,
            "width": size.width,
            "height": min(SHOT_HEIGHT, size.height - top),
            "scale": 1,
        }
        shot = browser.send(
            "Page.captureScreenshot", session, format="png", captureBeyondViewport=True, clip=clip
        )
        path = stem.with_name(f"{stem.name}-{index}.png")
        path.write_bytes(base64.b64decode(shot["data"]))
        paths.append(path)
    return paths


def evaluate(html: Path, expression: str, width: int = 1400, height: int = 1000) -> Any:
    """The value of a JavaScript `expression` in `html` once the page has loaded."""
    executable = chromium()
    if executable is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    with DevTools(executable) as browser:
        session = open_page(browser, html.resolve().as_uri(), width, height)
        result = browser.send(
            "Runtime.evaluate", session, expression=expression, returnByValue=True
        )
    return result["result"].get("value")


# Snakemake's report renders its landing page (report/workflow.rst) after load: wait for the
# heading, then where it sits in the window, and the scroll box around it.
HEADING = """(async () => {
  for (let i = 0; i < 200; i++) {
    const h = [...document.querySelectorAll('h1, h2, h3')]
      .find(e => e.textContent.trim() === %s);
    if (h) {
      let box = h.parentElement;
      while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
      return {top: h.getBoundingClientRect().top, bottom: h.getBoundingClientRect().bottom,
              scroll_top: box ? box.scrollTop : 0};
    }
    await new Promise(done => setTimeout(done, 100));
  }
  return null;
})()"""


def heading_position(
    html: Path, text: str, width: int, height: int, shot: Path | None = None
) -> dict[str, float] | None:
    """Where the heading `text` first sits in a `width` x `height` window (None: not shown
    within 20 s), with a screenshot of the window to `shot`."""
    executable = chromium()
    if executable is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    with DevTools(executable) as browser:
        session = open_page(browser, html.resolve().as_uri(), width, height)
        found = browser.send(
            "Runtime.evaluate",
            session,
            expression=HEADING % json.dumps(text),
            awaitPromise=True,
            returnByValue=True,
        )["result"].get("value")
        if shot is not None:
            png = browser.send("Page.captureScreenshot", session, format="png")["data"]
            shot.write_bytes(base64.b64decode(png))
    return found


def check(
    html: Path, out_dir: Path, width: int = 1400, height: int = 1000
) -> tuple[Rendering, Rendering, list[Path]]:
    """Render `html` at `width` px: measured with the <details> closed, then open; full-page
    screenshots of both into `out_dir` (closed-*.png, open-*.png)."""
    executable = chromium()
    if executable is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with DevTools(executable) as browser:
        session = open_page(browser, html.resolve().as_uri(), width, height)
        closed = measure(browser, session)
        shots = screenshots(browser, session, closed, out_dir / "closed")
        browser.send(
            "Runtime.evaluate",
            session,
            expression="document.querySelectorAll('details').forEach(d => d.open = true)",
        )
        opened = measure(browser, session)
        shots += screenshots(browser, session, opened, out_dir / "open")
    return closed, opened, shots


if __name__ == "__main__":
    page = Path(sys.argv[1])
    closed, opened, shots = check(page, page.parent / "screenshots")
    print(f"closed: {closed.width} x {closed.height} px, at-a-glance table at {closed.glance_top}")
    print(f"open:   {opened.width} x {opened.height} px; {len(closed.image_widths)} images")
    print("errors:", closed.errors or "none", "| resources:", closed.resources or "none")
    print("\n".join(str(p) for p in shots))
