"""The dashboard in a real browser: Streamlit served as a subprocess on a small
project, Debian's chromium driven by Playwright, every page opened with no
exception, and the error-analysis XLSX downloaded for real."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.dashboard.dashboard_project import APP

pytest.importorskip("playwright", reason="pip install -e '.[dev]' installs playwright")

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot import (  # noqa: E402
    CHROMIUM,
    PAGE_PATHS,
    launch_chromium,
    open_page,
    serve,
    wait_ready,
)

import mlstrat  # noqa: E402

SCREENSHOTS = APP.parents[1] / "screenshots"


@pytest.fixture(scope="module")
def browser_page(small_project_template, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/run, which installs Debian's chromium "
                    "(apt-get install -y chromium) for this test.")
    project = tmp_path_factory.mktemp("browser") / "project"
    shutil.copytree(small_project_template, project)
    with serve(project) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1400, "height": 900},
                                      accept_downloads=True)
        page = context.new_page()
        try:
            yield page, url, project
        finally:
            context.close()
            browser.close()


def _check_overview(page, tmp_path, project) -> None:
    expect(page.get_by_role("heading", name="Primary problem: data mismatch")).to_be_visible()
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("canvas, svg").first).to_be_visible()


def _check_error_analysis(page, tmp_path, project) -> None:
    """Tick a checkbox in the grid, see it in the store, then download the review
    sheet for real and find the tag in the workbook."""
    import openpyxl

    from mlstrat.errors import open_session

    grid = page.get_by_test_id("stDataFrameResizable").first
    expect(grid).to_be_visible()
    session = open_session(mlstrat.open_project(project), "test session")
    target = session.sample_ids()[1]
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)  # row 0, first column
    page.wait_for_timeout(300)  # keys pressed before the grid takes the focus are lost
    for key in ["ArrowRight"] * 5 + ["ArrowDown", " "]:  # example id y_true y_pred label blurry
        page.keyboard.press(key)
    deadline = time.monotonic() + 30
    while not session.tag_table().set_index("id").loc[target, "blurry"]:
        assert time.monotonic() < deadline, "the ticked checkbox never reached the store"
        time.sleep(0.25)
    assert int(session.tag_table()["blurry"].sum()) == 1  # that cell only
    wait_ready(page)

    page.get_by_role("tab", name="Export / import").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download XLSX").click()
    download = tmp_path / info.value.suggested_filename
    info.value.save_as(download)
    assert download.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(download).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["id", "y_true", "y_pred"] and "blurry" in header, header
    assert len(rows) == 61  # the 60 sampled errors of the small project
    tagged = [r[0] for r in rows[1:] if r[header.index("blurry")] == "x"]
    assert [str(t) for t in tagged] == [target]


CHECKS = {"overview": _check_overview, "error_analysis": _check_error_analysis}
PAGES = list(PAGE_PATHS)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_in_a_real_browser(browser_page, name, tmp_path):
    page, url, project = browser_page
    open_page(page, url, name)
    expect(page.get_by_test_id("stException")).not_to_be_attached()
    expect(page.locator("h1").first).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if name in CHECKS:
        CHECKS[name](page, tmp_path, project)
        expect(page.get_by_test_id("stException")).not_to_be_attached()
