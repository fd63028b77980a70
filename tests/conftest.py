"""Suite-wide fixtures."""

from __future__ import annotations

import sys

import pytest

_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest runs a page as ``__main__`` and can leave it there;
    a later test that spawns processes would then make every child re-run the
    dashboard script. Put the real ``__main__`` back after each test."""
    yield
    sys.modules["__main__"] = _MAIN
