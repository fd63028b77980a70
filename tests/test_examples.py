"""The examples that use the top-level steps run as a user runs them (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script, expect", [
    ("error_analysis.py", "ceiling"),
    ("first_system.py", "McNemar"),  # iteration 2 paired with iteration 1
])
def test_example_runs(tmp_path, script, expect):
    out = subprocess.run([sys.executable, str(EXAMPLES / script)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert expect.lower() in out.stdout.lower()
