"""The Error-analysis, Tuning and Training pages driven as a user drives them, in
Debian's chromium through Playwright, on one Streamlit server for the module:
tag two examples, add a category, download the XLSX and the CSV one after the
other and open both, import the edited sheet back, edit a tuning constraint,
and watch a running run grow without reloading. Each step asserts on what the
page shows and saves a screenshot into screenshots/ (git-ignored)."""

from __future__ import annotations

import shutil
import time

import pandas as pd
import pytest

from tests.dashboard.dashboard_project import APP

pytest.importorskip("playwright", reason="pip install -e '.[dev]' installs playwright")

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot import CHROMIUM, launch_chromium, open_page, serve  # noqa: E402

import mlstrat  # noqa: E402
from tests.dashboard.pages_project import CONSTRAINED, constrained_study  # noqa: E402

SCREENSHOTS = APP.parents[1] / "screenshots"
CATEGORY = "dark"


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def browser(small_project_template, tmp_path_factory):
    """(page, url, project folder, download folder) on one server for the module."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/run, which installs Debian's chromium "
                    "(apt-get install -y chromium) for this test.")
    project = tmp_path_factory.mktemp("browser_pages") / "project"
    shutil.copytree(small_project_template, project)
    constrained_study(project)
    downloads = tmp_path_factory.mktemp("downloads")
    with serve(project) as url, sync_playwright() as p:
        chromium = launch_chromium(p)
        context = chromium.new_context(viewport={"width": 1400, "height": 900},
                                       accept_downloads=True)
        page = context.new_page()
        try:
            yield page, url, project, downloads
        finally:
            context.close()
            chromium.close()


def _session(project):
    from mlstrat.errors import open_session

    return open_session(mlstrat.open_project(project), "test session")


# --------------------------------------------------------------------- helpers
_BUSY = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute("data-test-script-state") === "running") return true;
    if (document.querySelector("[data-testid='stSpinner'], [data-testid='stSkeleton']"))
        return true;
    if (document.querySelector("[data-stale='true']")) return true;
    const main = document.querySelector("[data-testid='stMain']");
    return !main || main.innerText.trim() === "";
}"""


def settle(page, quiet: float = 0.8, timeout: float = 60.0) -> None:
    """Wait until the page has been quiet (no run, spinner, skeleton or stale
    element) for ``quiet`` seconds: a click's rerun may not have started yet."""
    deadline, calm_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if page.evaluate(_BUSY):
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        page.wait_for_timeout(100)
    raise TimeoutError("the page never settled")


def _rerun_started(page, within: float) -> bool:
    """Whether the script starts running within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if page.evaluate("() => document.querySelector(\"[data-testid='stApp']\")"
                         ".getAttribute('data-test-script-state') === 'running'"):
            return True
        page.wait_for_timeout(30)
    return False


def shot(page, name: str) -> None:
    """A full-page screenshot: the page scrolls inside stMain, so grow the viewport first."""
    SCREENSHOTS.mkdir(exist_ok=True)
    height = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\")"
                           ".scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, min(int(height) + 50, 6000))})
    page.screenshot(path=str(SCREENSHOTS / f"pages_{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def no_exception(page) -> None:
    expect(page.get_by_test_id("stException")).not_to_be_attached()


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _tick(page, down: int) -> None:
    """Tick the 'blurry' checkbox of row ``down`` of the tagging grid with the keyboard
    (the grid is a canvas: click its first cell, then move to the cell)."""
    grid = page.get_by_test_id("stDataFrameResizable").first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)  # row 0, first column
    page.wait_for_timeout(300)  # keys pressed before the grid takes the focus are lost
    # example id y_true y_pred "incorrectly labelled" blurry
    for key in ["ArrowRight"] * 5 + ["ArrowDown"] * down:
        page.keyboard.press(key)
    page.wait_for_timeout(200)
    page.keyboard.press(" ")


def _type_in_last_cell(page, column: str, text: str) -> None:
    """Type ``text`` into row 0, last column of the grid that has ``column`` (the
    grid is a canvas; its header names are only in its ARIA table)."""
    grid = page.get_by_test_id("stDataFrame").filter(
        has=page.locator("[role=columnheader]", has_text=column)).get_by_test_id(
        "stDataFrameResizable")
    grid.scroll_into_view_if_needed()              # clicks land in the viewport only
    box = grid.bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] - 30, box["y"] + 35 + 17)
    editor = page.get_by_test_id("portal").locator(".gdg-clip-region")
    expect(editor).to_be_visible()
    field = editor.locator("input, textarea").first
    field.fill(text)
    expect(field).to_have_value(text)
    page.keyboard.press("Enter")


# --------------------------------------------------------------------- error analysis
def test_tag_two_examples_and_add_a_category(browser):
    page, url, project, _ = browser
    session = _session(project)
    first, second = session.sample_ids()[:2]
    open_page(page, url, "error_analysis")
    no_exception(page)
    shot(page, "01_error_analysis_opened")

    _tick(page, 0)
    wait_for(lambda: bool(session.tag_table().set_index("id").loc[first, "blurry"]),
             "the first ticked checkbox never reached the store")
    settle(page)
    _tick(page, 1)
    wait_for(lambda: bool(session.tag_table().set_index("id").loc[second, "blurry"]),
             "the second ticked checkbox never reached the store")
    settle(page)
    assert int(session.tag_table()["blurry"].sum()) == 2       # those two cells only
    n = len(session.sample_ids())
    expect(page.get_by_test_id("stMetric").filter(has_text="Reviewed")).to_contain_text(
        f"2 of {n}")
    shot(page, "02_two_examples_tagged")

    page.get_by_role("tab", name="Summary").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="sampled errors have a tag")
           ).to_contain_text(f"Only 2 of the {n}")
    expect(page.get_by_test_id("stMain")).to_contain_text("Work next on: blurry")
    shot(page, "03_summary_partial_review")

    page.get_by_role("tab", name="Tag").click()
    page.get_by_label("New category (e.g. blurry, dog, great cat)").fill(CATEGORY)
    page.get_by_role("button", name="Add the category").click()
    settle(page)
    no_exception(page)
    # the grid draws on a canvas; its header names are in the grid's ARIA table
    expect(page.locator("[role=columnheader]", has_text=CATEGORY)).to_be_attached()
    assert CATEGORY in session.categories()
    shot(page, "04_category_added")


def test_download_xlsx_and_csv_one_after_the_other(browser):
    """Both clicked back to back, no wait between them: both arrive (a click that
    reran the page used to drop the other button's file: MediaFileStorageError)."""
    import openpyxl

    page, url, project, downloads = browser
    session = _session(project)
    tagged = sorted(session.tag_table().query("blurry")["id"].astype(str))
    assert len(tagged) == 2, "runs after test_tag_two_examples_and_add_a_category"
    page.get_by_role("tab", name="Export / import").click()
    arrived = []

    def collect(download) -> None:
        arrived.append(download)

    page.on("download", collect)
    page.get_by_role("button", name="Download XLSX").click()
    reran = _rerun_started(page, within=1.0)      # the CSV is clicked during any rerun
    page.get_by_role("button", name="Download CSV").click()
    for _ in range(150):                            # Playwright delivers events while it waits
        if len(arrived) == 2:
            break
        page.wait_for_timeout(200)
    assert len(arrived) == 2, f"{len(arrived)} of the 2 downloads arrived"
    page.remove_listener("download", collect)
    files = {}
    for download in arrived:
        assert download.failure() is None, download.failure()
        files[download.suggested_filename.rsplit(".", 1)[1]] = target = \
            downloads / download.suggested_filename
        download.save_as(target)
    assert set(files) == {"xlsx", "csv"}
    assert not reran, "a download click reran the page: it drops the other button's file"
    shot(page, "05_both_downloaded")

    rows = list(openpyxl.load_workbook(files["xlsx"]).worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["id", "y_true", "y_pred"] and CATEGORY in header, header
    assert len(rows) == len(session.sample_ids()) + 1
    assert sorted(str(r[0]) for r in rows[1:] if r[header.index("blurry")] == "x") == tagged

    sheet = pd.read_csv(files["csv"], dtype=str, keep_default_na=False)
    assert list(sheet.columns[:3]) == ["id", "y_true", "y_pred"] and CATEGORY in sheet
    assert len(sheet) == len(session.sample_ids())
    assert sorted(sheet.loc[sheet["blurry"] == "x", "id"]) == tagged
    no_exception(page)


def test_import_the_edited_sheet_back(browser):
    page, url, project, downloads = browser
    session = _session(project)
    sheet = pd.read_csv(next(downloads.glob("*.csv")), dtype=str, keep_default_na=False)
    marked = sheet["id"].iloc[[3, 4, 5]].tolist()
    sheet.loc[sheet.index[[3, 4, 5]], CATEGORY] = "x"
    edited = downloads / "my review.csv"
    sheet.to_csv(edited, index=False)

    page.get_by_role("tab", name="Export / import").click()
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(edited)
    expect(page.get_by_role("button", name="Import the tags")).to_be_visible()
    settle(page)
    page.get_by_role("button", name="Import the tags").click()
    settle(page)
    no_exception(page)
    page.get_by_role("tab", name="Export / import").click()
    message = page.get_by_test_id("stAlert").filter(has_text="Imported")
    expect(message).to_contain_text("Imported my review.csv")
    assert "/tmp" not in message.inner_text()
    shot(page, "06_sheet_imported")

    table = session.tag_table().set_index("id")
    assert sorted(table.index[table[CATEGORY]]) == sorted(marked)
    n = len(session.sample_ids())
    expect(page.get_by_test_id("stMetric").filter(has_text="Reviewed")).to_contain_text(
        f"5 of {n}")
    page.get_by_role("tab", name="Summary").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="sampled errors have a tag")
           ).to_contain_text(f"Only 5 of the {n}")
    shot(page, "07_summary_after_import")


# --------------------------------------------------------------------- tuning
def test_edit_a_tuning_constraint(browser):
    from mlstrat.tuning import StudyResult

    page, url, project, _ = browser
    result = StudyResult.from_project(mlstrat.open_project(project), CONSTRAINED)
    before, after = result.select().chosen, result.select(
        satisfice={"latency_ms": ("<=", 0.5)}).chosen
    assert before != after
    open_page(page, url, "tuning")
    no_exception(page)
    chosen = page.get_by_test_id("stAlert").filter(has_text="Chosen:")
    expect(chosen).to_contain_text(f"Chosen: trial {before} ")
    assert "finished_at" not in main_text(page)
    shot(page, "08_tuning_stored_constraint")

    _type_in_last_cell(page, "threshold", "0.5")   # metric, op, threshold
    settle(page)
    no_exception(page)
    expect(chosen).to_contain_text(f"Chosen: trial {after} ")
    shot(page, "09_tuning_constraint_edited")


# --------------------------------------------------------------------- training
def test_training_follows_a_running_run_without_reload(browser):
    page, url, project, _ = browser
    run = mlstrat.start_run(project, "live net", config={"lr": 0.01})
    try:
        for epoch in range(3):
            run.log_epoch(epoch, train_loss=1.0 / (epoch + 1), dev_loss=1.3 / (epoch + 1))
        open_page(page, url, "training", f"run={run.run_id}")
        no_exception(page)
        expect(page.get_by_test_id("stAlert").filter(has_text="is running")).to_be_visible()
        epochs = page.get_by_test_id("stMetric").filter(has_text="Epochs trained")
        expect(epochs).to_contain_text("3")
        shot(page, "10_training_running")
        for epoch in range(3, 6):
            run.log_epoch(epoch, train_loss=1.0 / (epoch + 1), dev_loss=1.3 / (epoch + 1))
        expect(epochs).to_contain_text("6", timeout=15_000)       # no reload, no click
        shot(page, "11_training_followed")
    finally:
        run.finish()
    expect(page.get_by_test_id("stAlert").filter(has_text="is running")).not_to_be_attached(
        timeout=15_000)
    no_exception(page)
