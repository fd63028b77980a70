"""User tasks in a real browser (Debian's chromium driven by Playwright, one
Streamlit server for the module), asserting on what the user sees, with a
screenshot per step in ``screenshots/first_system/`` (git-ignored):

- upload a CSV on the First system page and build baselines: the target is not
  preselected, Build waits for it, the runs go to a new project named after the
  file (the open project is left alone), the outcome shows under the Build
  button without scrolling (1280x800), the checks and the diagnosis headline
  are on the page;
- upload a file whose project the command line built beside the open one (among
  hundreds of folders): that project is offered first and Build adds to it;
- the Overview of a run that beats the human level: the negative avoidable bias
  drawn green and said in the chart's legend; the runs table fits 1024 px;
- compare two runs: a falling error is a green down arrow;
- upload a predictions CSV and see the run stored.

Bad input on these paths is covered with AppTest (test_app_first_system.py).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.dashboard.dashboard_project import APP
from tests.dashboard.test_app_first_system import _paired_runs
from tests.first_system.penguins import penguins

pytest.importorskip("playwright", reason="pip install -e '.[dev]' installs playwright")

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot import CHROMIUM, launch_chromium, open_page, serve, wait_ready  # noqa: E402

import mlstrat  # noqa: E402

SCREENSHOTS = APP.parents[1] / "screenshots" / "first_system"
BUILD_TIMEOUT = 120_000  # ms: five epochs on 344 rows take a few seconds
VIEWPORT = {"width": 1280, "height": 800}


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def served(small_project_template, tmp_path_factory):
    """The small project plus a run beating the human level and two paired runs
    (B better), served once; a fresh page per test."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/run, which installs Debian's chromium "
                    "(apt-get install -y chromium) for this test.")
    work = tmp_path_factory.mktemp("browser_first_system")
    project = work / "project"
    shutil.copytree(small_project_template, project)
    proj = mlstrat.open_project(project)
    surpassed = proj.log_run("beats the human level", human_error=0.05,
                             errors={"train": 0.01, "dev": 0.012, "test": 0.013},
                             sizes={"train": 20000, "dev": 5000, "test": 5000})
    proj.close()
    run_a, run_b = _paired_runs(project)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serve(project) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield {"url": url, "project": project, "work": work, "browser": browser,
                   "surpassed": surpassed, "pair": (run_a, run_b)}
        finally:
            browser.close()


@pytest.fixture
def page(served):
    context = served["browser"].new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


# --------------------------------------------------------------------- helpers
def _shot(page, name: str) -> None:
    """A full-page screenshot (the page scrolls inside stMain: grow the viewport)."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)
    expect(page.get_by_test_id("stException")).not_to_be_attached()


def _main(page):
    return page.get_by_test_id("stMain")


_BUSY = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    return !app || app.getAttribute("data-test-script-state") !== "notRunning"
        || document.querySelector("[data-testid='stSpinner'], [data-testid='stSkeleton'],"
                                  + " [data-stale='true']") !== null;
}"""


def _settle(page, timeout: float = 60.0, quiet: float = 0.8) -> None:
    """Wait until the app has been idle for ``quiet`` seconds (a rerun may start
    a moment after the action that causes it)."""
    wait_ready(page, timeout=timeout * 1000)
    deadline, idle = time.monotonic() + timeout, 0.0
    while idle < quiet:
        assert time.monotonic() < deadline, "the page never settled"
        page.wait_for_timeout(100)
        idle = 0.0 if page.evaluate(_BUSY) else idle + 0.1


def _select(page, label: str, option: str) -> None:
    """Open the selectbox labelled ``label`` and pick ``option`` (a click that only
    focuses the box is retried)."""
    _settle(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        box.click()
        try:
            choice.click(timeout=3000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"the option {option!r} of {label!r} never showed")
    _settle(page)


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(path))


def _assert_outcome_in_view(page) -> None:
    """After Build, the summary (best model, dev error, primary problem) and the Open
    button are inside the viewport where the user clicked Build: no scrolling to see
    that something happened."""
    summary = page.get_by_test_id("stAlert").filter(has_text="runs stored")
    expect(summary).to_contain_text("Best on dev:")
    expect(summary).to_contain_text("dev error ")
    opened = page.get_by_role("button", name="Open project penguins_project in the dashboard")
    for element in (summary, opened):
        assert element.is_visible()
        box = element.bounding_box()
        assert box is not None and box["y"] >= 0 and box["x"] >= 0, box
        assert box["y"] + box["height"] <= VIEWPORT["height"], box
        assert box["x"] + box["width"] <= VIEWPORT["width"], box
    page.screenshot(path=str(SCREENSHOTS / "a4_outcome_in_view.png"))  # what the user sees


def _runs(folder: Path) -> list[int]:
    proj = mlstrat.open_project(folder, create=False, readonly=True)
    try:
        return [int(i) for i in proj.runs()["id"]]
    finally:
        proj.close()


# --------------------------------------------------------------------- (a) first system
def test_upload_a_csv_and_build_baselines_in_a_new_project(served, page):
    csv = served["work"] / "penguins.csv"
    penguins().to_csv(csv, index=False)
    before = _runs(served["project"])
    new_project = served["work"] / "penguins_project"

    open_page(page, served["url"], "first_system")
    _shot(page, "a1_empty_page")
    _upload(page, csv)
    expect(_main(page)).to_contain_text("penguins.csv: 344 rows, 8 columns")
    # 'year' is the last column: nothing is preselected, Build waits for a target
    expect(_main(page)).to_contain_text("No column is named like a target")
    expect(page.get_by_role("button", name="Build")).to_be_disabled()
    _shot(page, "a2_uploaded_no_target")

    _select(page, "Target (the column to predict)", "species")
    expect(_main(page)).to_contain_text("Column roles")
    _select(page, "Rungs measured by", "one split")
    epochs = page.get_by_role("spinbutton", name="Epochs at most (early stopping on a carve "
                                                   "of train)")
    epochs.fill("5")
    epochs.press("Enter")
    _settle(page)
    expect(_main(page)).to_contain_text("Without one, train and dev share one distribution")
    default = page.get_by_role("radio", name=f"a new project named after the file: "
                                             f"{new_project}")
    expect(default).to_be_checked()
    _shot(page, "a3_ready_to_build")

    page.set_viewport_size(VIEWPORT)  # a laptop screen: the outcome must show without scrolling
    page.get_by_role("button", name="Build").click()
    expect(_main(page)).to_contain_text("runs stored", timeout=BUILD_TIMEOUT)
    wait_ready(page, timeout=BUILD_TIMEOUT)
    _assert_outcome_in_view(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    main = _main(page)
    expect(main).to_contain_text(f"in project penguins_project ({new_project}).")
    expect(main).to_contain_text("Checks of the data")
    expect(main).to_contain_text("No train-dev set")
    result = _runs(new_project)
    assert len(result) == 4 and _runs(served["project"]) == before  # the open one untouched
    heading = page.get_by_role("heading", name="Primary problem").or_(
        page.get_by_role("heading", name="Not enough evidence")).or_(
        page.get_by_role("heading", name="No clear problem")).or_(
        page.get_by_role("heading", name="Human level surpassed"))
    expect(heading.first).to_be_visible()
    _shot(page, "a4_built")

    # open the new project: the sidebar and the other pages follow
    page.get_by_role("button", name="Open project penguins_project in the dashboard").click()
    wait_ready(page)
    expect(page.get_by_test_id("stSidebar").get_by_role("textbox")).to_have_value(
        str(new_project))
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview").click()
    wait_ready(page)
    expect(_main(page)).to_contain_text(f"Project {new_project} - 4 run(s)")
    _shot(page, "a5_new_project_overview")


def test_a_project_built_from_the_same_file_is_offered_first(served, page):
    """sklearn's wine table built with `mlstrat baseline` into wine_project, beside the
    open project among hundreds of folders (as in /tmp): the upload of the same file
    offers that project first, and Build adds an iteration to it, compared with the
    previous one."""
    from sklearn.datasets import load_wine

    from mlstrat.cli import main

    work = served["work"]
    csv = work / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(csv, index=False)
    built = work / "wine_project"
    assert main(["baseline", str(csv), "--target", "target", "--project", str(built),
                 "--max-epochs", "3", "--resampling", "split", "--quiet"]) == 0
    for i in range(250):
        (work / f"a_{i:03d}").mkdir(exist_ok=True)
    before = _runs(built)

    open_page(page, served["url"], "first_system")
    _upload(page, csv)
    expect(_main(page)).to_contain_text("wine.csv: 178 rows, 14 columns")
    expect(_main(page)).to_contain_text("Preselected: named like a target ('target').")
    _select(page, "Rungs measured by", "one split")
    epochs = page.get_by_role("spinbutton", name="Epochs at most (early stopping on a carve "
                                                   "of train)")
    epochs.fill("3")
    epochs.press("Enter")
    _settle(page)
    same = page.get_by_role("radio", name=f"wine_project: made from this data "
                                          f"({len(before)} runs; the new best is compared "
                                          "with its previous best)")
    expect(same).to_be_checked()
    expect(page.get_by_role("radio", name=f"a new project named after the file: "
                                          f"{work / 'wine_2_project'}")).not_to_be_checked()
    _shot(page, "a6_same_data_offered_first")

    page.get_by_role("button", name="Build").click()
    expect(_main(page)).to_contain_text("runs stored", timeout=BUILD_TIMEOUT)
    wait_ready(page, timeout=BUILD_TIMEOUT)
    expect(_main(page)).to_contain_text(f"in project wine_project ({built})")
    expect(page.get_by_role("heading", name="Iteration 2")).to_be_visible()
    expect(_main(page)).to_contain_text("(the previous best)")
    after = _runs(built)
    assert after[:len(before)] == before and len(after) == len(before) + 4
    assert not (work / "wine_2_project").exists()
    _shot(page, "a7_second_iteration_built")


# --------------------------------------------------------------------- (2) overview
def test_overview_says_a_negative_avoidable_bias_in_the_chart(served, page):
    open_page(page, served["url"], "overview", f"run={served['surpassed']}")
    expect(page.get_by_role("heading", name="Human level surpassed")).to_be_visible()
    chart = page.get_by_test_id("stVegaLiteChart").first
    legend = chart.locator("svg text", has_text="negative: not a problem")
    expect(legend).to_have_count(1)  # in full, not cut by the column
    assert legend.text_content() == "negative: not a problem"
    # the avoidable-bias bar is drawn below zero in the legend's green
    green_bars = chart.locator("svg g.mark-rect path[fill='#2ca02c']")
    expect(green_bars).to_have_count(1)
    red_bars = chart.locator("svg g.mark-rect path[fill='#d62728']")
    expect(red_bars).to_have_count(0)
    _shot(page, "o1_surpassed")


#: the runs table's columns shown by default: the errors and the diagnosis
RUNS_COLUMNS = ["run", "name", "train", "train-dev", "dev", "test", "diagnosis"]


def _runs_grid_headers(page) -> tuple[list[str], tuple[int, int]]:
    """The runs table's headers, and its scroll width against its visible width."""
    grid = page.get_by_test_id("stDataFrameResizable").last
    grid.scroll_into_view_if_needed()
    expect(grid.locator('[role="columnheader"]', has_text="name")).to_be_attached()
    _settle(page)
    headers = [h.inner_text() for h in grid.locator('[role="columnheader"]').all()]
    scroll, client = grid.evaluate("g => { const s = g.querySelector('.dvn-scroller');"
                                   " return [s.scrollWidth, s.clientWidth]; }")
    return headers, (scroll, client)


@pytest.mark.parametrize("width, height", [(1024, 768), (1280, 800)])
def test_overview_runs_table_fits_without_scrolling_sideways(served, page, width, height):
    """The run, its name, the errors and the diagnosis fit a 1024 px screen: nothing
    scrolls sideways; more columns come on demand."""
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, served["url"], "overview")
    headers, (scroll, client) = _runs_grid_headers(page)
    assert headers == RUNS_COLUMNS, headers
    assert scroll <= client, (scroll, client)
    _shot(page, f"o2_runs_table_{width}")
    if width == 1280:  # ask for the human level: it comes before train
        page.get_by_test_id("stButtonGroup").get_by_role(
            "button", name="human level").click()
        _settle(page)
        headers, _ = _runs_grid_headers(page)
        assert headers == ["run", "name", "human", *RUNS_COLUMNS[2:]], headers
        _shot(page, "o3_runs_table_with_human")


def test_after_a_baseline_the_starred_runs_table_fits_1024_px(served, tmp_path):
    """Two `mlstrat baseline` iterations (long model names, a star before each
    chosen one): the page opens on the latest choice and the table still fits."""
    from sklearn.datasets import load_wine

    from mlstrat.cli import main

    csv, folder = tmp_path / "wine.csv", tmp_path / "wine_project"
    load_wine(as_frame=True).frame.to_csv(csv, index=False)
    for _ in range(2):
        assert main(["baseline", str(csv), "--target", "target", "--project", str(folder),
                     "--max-epochs", "2", "--resampling", "split", "--quiet"]) == 0
    proj = mlstrat.open_project(folder)
    chosen = [int(i) for i in proj.runs()["id"]
              if proj.get_run(int(i)).config["baseline"]["chosen"]]
    proj.close()
    context = served["browser"].new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        with serve(folder) as url:
            open_page(page, url, "overview")
            run = _main(page).get_by_role("combobox", name="Run")
            expect(run).to_have_value(re.compile(rf"^#{chosen[-1]} ★ baseline 2: "))
            headers, (scroll, client) = _runs_grid_headers(page)
            # no train-dev set without --domain: its room goes to the names
            assert headers == [c for c in RUNS_COLUMNS if c != "train-dev"], headers
            assert scroll <= client, (scroll, client)
            _shot(page, "o4_runs_table_after_baseline_1024")
    finally:
        context.close()


# --------------------------------------------------------------------- (b) compare
def test_compare_two_runs_a_falling_error_is_a_green_down_arrow(served, page):
    run_a, run_b = served["pair"]
    open_page(page, served["url"], "compare")
    main = _main(page)
    expect(main).to_contain_text(f"#{run_a} A")
    expect(main).to_contain_text("B is better: the difference is real")
    delta = page.get_by_test_id("stMetricDelta").first
    expect(delta).to_contain_text("-10.00 pt")
    expect(delta.get_by_test_id("stMetricDeltaIcon-Down")).to_be_visible()
    red, green, blue = (int(v) for v in delta.evaluate(
        "e => getComputedStyle(e).color").strip("rgba()").split(",")[:3])
    assert green > red and green > blue, (red, green, blue)
    _shot(page, "b1_compare")


# --------------------------------------------------------------------- (c) upload
def test_upload_a_predictions_csv_and_see_the_run_stored(served, page):
    rng = np.random.default_rng(0)
    rows = []
    for split, n, error in (("train", 300, 0.05), ("dev", 150, 0.2)):
        y = rng.integers(0, 2, n)
        wrong = rng.permutation(n) < round(error * n)
        rows.append(pd.DataFrame({"split": split, "id": [f"{split}{i}" for i in range(n)],
                                  "y_true": y, "y_pred": np.where(wrong, 1 - y, y)}))
    csv = served["work"] / "predictions.csv"
    pd.concat(rows).to_csv(csv, index=False)
    before = _runs(served["project"])

    open_page(page, served["url"], "upload")
    _upload(page, csv)
    expect(_main(page)).to_contain_text("Rows per split: train 300, dev 150")
    name = page.get_by_role("textbox", name="Run name")
    name.fill("from the browser")
    name.press("Enter")
    _settle(page)
    _shot(page, "c1_uploaded")
    page.get_by_role("button", name="Create the run").click()
    stored = page.get_by_test_id("stAlert").filter(has_text="Stored as run #")
    expect(stored).to_be_visible(timeout=60_000)
    wait_ready(page)
    after = _runs(served["project"])
    assert after[:-1] == before and len(after) == len(before) + 1
    expect(stored).to_contain_text(f"Stored as run #{after[-1]} 'from the browser'")
    run = mlstrat.open_project(served["project"], readonly=True).get_run(after[-1])
    assert run.name == "from the browser" and run.errors["dev"] == pytest.approx(0.2)
    expect(page.get_by_role("heading", name="Primary problem: variance")).to_be_visible()
    _shot(page, "c2_stored")
