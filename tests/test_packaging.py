"""The wheel ships the dashboard, and `mlstrat dashboard` serves it from an installed copy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

import mlstrat

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_in_the_wheel_list():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mlstrat").rglob(
        "__init__.py")}
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, unpacked where an installer would put it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    wheel = next(out.glob("mlstrat-*.whl"))
    site = out / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    return site


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "MLSTRAT_HOME": str(site / "home")}


def test_the_wheel_holds_the_app_and_every_page(installed):
    pages = sorted(p.name for p in (ROOT / "dashboards" / "app_pages").glob("*.py"))
    shipped = sorted(p.name for p in (installed / "mlstrat" / "_dashboard" / "app_pages")
                     .glob("*.py"))
    assert (installed / "mlstrat" / "_dashboard" / "app.py").is_file()
    assert shipped == pages


def test_the_installed_command_points_at_the_installed_app(installed, tmp_path):
    mlstrat.open_project(tmp_path / "p").close()
    out = subprocess.run([sys.executable, "-m", "mlstrat", "dashboard", "--project",
                          str(tmp_path / "p"), "--print-command"], env=_env(installed),
                         capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert str(installed / "mlstrat" / "_dashboard" / "app.py") in out
    assert "--server.address 127.0.0.1" in out and f"--project {tmp_path / 'p'}" in out


def test_a_missing_project_is_a_clear_error(installed, tmp_path):
    r = subprocess.run([sys.executable, "-m", "mlstrat", "dashboard", "--project",
                        str(tmp_path / "nope")], env=_env(installed), capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 2 and "No project" in r.stderr and not (tmp_path / "nope").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_installed_dashboard_serves_on_localhost(installed, tmp_path):
    project = tmp_path / "p"
    mlstrat.open_project(project).log_run("a", errors={"train": 0.1, "dev": 0.2},
                                          sizes={"train": 100, "dev": 100})
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlstrat", "dashboard", "--project",
                               str(project), "--port", str(port)], env=_env(installed),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=tmp_path, start_new_session=True)
    try:
        deadline, body = time.time() + 90, ""
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert body == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
    finally:
        os.killpg(server.pid, 15)
        out = server.communicate(timeout=30)[0]
    assert f"http://localhost:{port}" in out
