"""``mlstrat dashboard``: serve the Streamlit dashboard on a project (localhost by default)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from importlib import resources
from pathlib import Path

from mlstrat.store import Project


def app_path() -> Path:
    """The dashboard's ``app.py``: shipped in the wheel as ``mlstrat._dashboard``."""
    try:
        path = Path(str(resources.files("mlstrat._dashboard").joinpath("app.py")))
    except ModuleNotFoundError:
        path = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"The dashboard app is missing from this installation "
                                f"({path}); reinstall mlstrat.")
    return path


def command(project: Path, port: int, host: str) -> list[str]:
    """The Streamlit command line that serves ``project``."""
    return [sys.executable, "-m", "streamlit", "run", str(app_path()),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--server.fileWatcherType", "none",
            "--server.maxUploadSize", "100", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer", "--", "--project", str(project)]


def _project(folder: str | None) -> Path:
    if folder is None:
        from mlstrat.demo import ensure_demo_project

        print("mlstrat dashboard: no --project given; opening the demo project "
              "(built on first use, a few seconds).", flush=True)
        return ensure_demo_project()
    path = Path(folder).expanduser()
    Project(path, create=False, readonly=True).close()  # a clear error if it is not one
    return path.resolve()


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("streamlit") is None:
        raise ModuleNotFoundError("The dashboard needs Streamlit: pip install "
                                  "'mlstrat[dashboard]'.")
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be in 1..65535. Got {args.port}.")
    project = _project(args.project)
    cmd = command(project, args.port, args.host)
    if args.print_command:
        print(" ".join(cmd))
        return 0
    shown = "localhost" if args.host == "127.0.0.1" else args.host
    print(f"mlstrat dashboard: {project} on http://{shown}:{args.port} (Ctrl-C to stop)",
          flush=True)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


def register(sub) -> None:
    p = sub.add_parser("dashboard", help="serve the dashboard on a project",
                       description="Serve the Streamlit dashboard on a project, on "
                                   "127.0.0.1 unless --host says otherwise.")
    p.add_argument("--project", help="project folder (default: the demo project, built on "
                                     "first use)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--print-command", action="store_true",
                   help="print the Streamlit command instead of running it")
    p.set_defaults(func=run)
