"""Serve the dashboard and drive it with a real browser (Debian chromium).

Used by ``tests/dashboard/test_browser.py`` and, as a script, to make the
README screenshot of the Overview page of the demo project::

    python dashboards/screenshot.py [--project DIR] [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from anywhere: use this checkout
    sys.path.insert(0, str(REPO_ROOT))
APP = REPO_ROOT / "dashboards" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: url path of each page (st.Page derives it from the file name; the default page is "")
PAGE_PATHS = {"overview": "", "first_system": "first_system", "compare": "compare",
              "training": "training", "tuning": "tuning", "error_analysis": "error_analysis",
              "splits": "splits", "upload": "upload"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(project: str | Path, *, port: int | None = None,
          timeout: float = 60.0) -> Iterator[str]:
    """Run ``streamlit run dashboards/app.py`` on ``project``; yield its base URL."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP),
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--", "--project", str(project)]
    env = {**os.environ, "MLSTRAT_PROJECT": str(project)}
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"mlstrat-streamlit-{port}.log", "w+")
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, url, timeout, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_healthy(proc: subprocess.Popen, url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")


def launch_chromium(playwright):
    """Debian's chromium through Playwright (no browser download)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: the real-browser test needs Debian's chromium. "
            "Run .ci/run (it installs it: apt-get install -y chromium).")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_ready(page, timeout: float = 60_000) -> None:
    """Wait the way Streamlit's own e2e suite does: connected, script done, no skeleton."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']",
                           timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)
    page.wait_for_selector("[data-testid='stSkeleton']", state="detached", timeout=timeout)


def open_page(page, base_url: str, name: str, query: str = "") -> None:
    page.goto(f"{base_url}/{PAGE_PATHS[name]}" + (f"?{query}" if query else ""))
    wait_ready(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", default="demo_project",
                        help="project folder, relative to the repository (shown as given in "
                             "the sidebar, so the screenshot holds no machine path)")
    parser.add_argument("--out", default=str(REPO_ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--page", default="overview", choices=list(PAGE_PATHS))
    parser.add_argument("--run", type=int, help="the run to show (default: the newest; "
                        "for the demo, the data-mismatch run)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from mlstrat.demo import ensure_demo_project

    run = args.run
    full = Path(args.project) if Path(args.project).is_absolute() else REPO_ROOT / args.project
    if full.resolve() == (REPO_ROOT / "demo_project").resolve():
        ensure_demo_project(full)
        if run is None:
            from mlstrat.demo import ANALYSED_RUN, MARKER

            run = json.loads((full / MARKER).read_text())["runs"][ANALYSED_RUN]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with serve(args.project) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        open_page(page, url, args.page, f"run={run}" if run else "")
        page.wait_for_timeout(500)  # let Vega finish drawing
        page.screenshot(path=args.out, full_page=False)
        browser.close()
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
