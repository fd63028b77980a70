"""Fixtures for the dashboard tests: a small project in tmp_path, the app
pointed at it through $MLSTRAT_PROJECT, and Streamlit caches cleared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st

from tests.dashboard.dashboard_project import APP, build_small_project


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def small_project_template(tmp_path_factory) -> Path:
    return build_small_project(tmp_path_factory.mktemp("template") / "project")


@pytest.fixture
def small_project(tmp_path, small_project_template, monkeypatch) -> Path:
    """A fresh copy of the small project, and the app pointed at it."""
    folder = tmp_path / "project"
    shutil.copytree(small_project_template, folder)
    monkeypatch.setenv("MLSTRAT_PROJECT", str(folder))
    return folder


@pytest.fixture
def app(small_project):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    return at


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> Path:
    """The demo project, built once per test session (a few seconds)."""
    from mlstrat.demo import ensure_demo_project

    return ensure_demo_project(tmp_path_factory.mktemp("demo") / "demo_project")
