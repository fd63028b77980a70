"""mlstrat dashboard: what to work on next, from a project store.

Run with ``mlstrat dashboard [--project DIR]`` (``make dashboard`` in a checkout),
or Streamlit itself::

    streamlit run dashboards/app.py -- --project DIR
    MLSTRAT_PROJECT=DIR streamlit run dashboards/app.py

The pages live in ``app_pages/``; they call ``mlstrat`` and show its results.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from app_pages import _common as common

import mlstrat
from mlstrat.store import StoreError

st.set_page_config(page_title="mlstrat", page_icon=":material/insights:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/stairs:", default=True),
    st.Page("app_pages/first_system.py", title="First system", icon=":material/rocket_launch:"),
    st.Page("app_pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
    st.Page("app_pages/training.py", title="Training", icon=":material/show_chart:"),
    st.Page("app_pages/tuning.py", title="Tuning", icon=":material/tune:"),
    st.Page("app_pages/error_analysis.py", title="Error analysis",
            icon=":material/fact_check:"),
    st.Page("app_pages/splits.py", title="Splits", icon=":material/splitscreen:"),
    st.Page("app_pages/upload.py", title="Upload", icon=":material/upload_file:"),
]


def _project_sidebar() -> str:
    st.session_state.setdefault(common.PATH_KEY, common.default_project_path())
    with st.sidebar:
        st.text_input("Project folder (or its mlstrat.db)", key=common.PATH_KEY,
                      help="Default: --project DIR after `streamlit run app.py --`, "
                           f"else ${common.ENV_VAR}, else the demo project.")
    return str(st.session_state[common.PATH_KEY]).strip()


def _missing_project(path: str) -> None:
    folder = Path(path).expanduser()
    if folder.resolve() == common.DEFAULT_PROJECT.resolve():
        st.info("The demo project has not been built yet. Build it here (a few seconds "
                "on 2 cores) or run `python -m mlstrat.demo --ensure`.")
        if st.button("Build the demo project", type="primary"):
            from mlstrat.demo import ensure_demo_project

            with st.spinner("Training the demo models..."):
                ensure_demo_project(folder)
            st.rerun()
        return
    st.error(f"No mlstrat project at `{path}`: there is no `{common.STORE_FILE}` there. "
             "Choose an existing project folder in the sidebar, or create an empty "
             "project and add runs on the Upload page.")
    if folder.suffix == "" and st.button("Create an empty project here"):
        mlstrat.open_project(folder).close()
        st.rerun()


def main() -> None:
    page = st.navigation(PAGES)
    path = _project_sidebar()
    try:
        proj = common.open_existing(path)
    except FileNotFoundError:
        _missing_project(path)
        st.stop()
        return  # st.stop() only raises under a Streamlit runtime
    except StoreError as exc:
        st.error(f"`{path}` cannot be opened as an mlstrat project: {exc}")
        st.stop()
        return
    st.sidebar.caption(f"Store: `{proj.path}`")
    page.run()


main()
