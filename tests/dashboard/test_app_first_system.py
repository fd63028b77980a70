"""AppTest checks of the "First system" and "Compare runs" pages: a small
generated table built into runs (5 epochs) in a project of its own (named after
the file), bad input refused with nothing written, and the paired test of two
runs shown as compare_runs computes it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlstrat
from mlstrat.first_system import compare_runs
from tests.dashboard.dashboard_project import APP
from tests.dashboard.test_app import errors, texts
from tests.first_system.penguins import penguins

FIRST = "app_pages/first_system.py"
COMPARE = "app_pages/compare.py"


# --------------------------------------------------------------------- helpers
def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A numeric, a categorical and a text column; the label depends on the first two."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], n)
    note = [" ".join(rng.choice(["big", "small", "old", "new", "shiny"], 4)) for _ in range(n)]
    label = ((x + (color == "red") + 0.5 * rng.normal(size=n)) > 0.5).astype(int)
    return pd.DataFrame({"x": x, "color": color, "note": note, "label": label,
                         "constant_target": 1})


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _n_runs(folder) -> int:
    return len(mlstrat.open_project(folder).runs())


def _state(folder: Path) -> tuple | None:
    """What a project holds (runs, sessions, revision); None when it has no store."""
    if not (folder / "mlstrat.db").exists():
        return None
    proj = mlstrat.open_project(folder, create=False, readonly=True)
    try:
        return (proj.runs()["id"].tolist(), proj.error_sessions()["id"].tolist(),
                proj.revision())
    finally:
        proj.close()


@pytest.fixture
def empty_project(tmp_path, monkeypatch):
    folder = tmp_path / "empty"
    mlstrat.open_project(folder).close()
    monkeypatch.setenv("MLSTRAT_PROJECT", str(folder))
    return folder


@pytest.fixture
def built(empty_project):
    """Where the page stores the runs of 'table.csv' by default: a new project
    named after the file, beside the open one."""
    return empty_project.parent / "table_project"


@pytest.fixture
def first_page(empty_project):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(FIRST).run()
    assert not at.exception
    return at


def _upload(at, data: bytes, name: str = "table.csv", mime: str = "text/csv"):
    at.file_uploader(key="first_system_file").set_value((name, data, mime)).run()
    assert not at.exception
    return at


def _build(at, *, target: str = "label", hidden: str = "", resampling: str = "auto",
           destination: str | Path | None = None):
    at.selectbox(key="fs_target").set_value(target).run()
    at.selectbox(key="fs_resampling").set_value(resampling)
    at.number_input(key="fs_epochs").set_value(5)
    at.number_input(key="fs_review").set_value(10)
    at.number_input(key="fs_human").set_value(1.0)
    at.text_input(key="fs_hidden").set_value(hidden)
    at.run()
    if destination is not None:
        at.radio(key="fs_dest").set_value("other").run()
        at.text_input(key="fs_dest_other").set_value(str(destination)).run()
    at.button(key="fs_build").click().run()
    assert not at.exception
    return at


# --------------------------------------------------------------------- first system
def test_the_new_pages_render_on_an_empty_and_on_the_small_project(first_page, app):
    assert first_page.title[0].value == "First system"
    assert not errors(first_page)
    first_page.switch_page(COMPARE).run()
    assert not first_page.exception
    at = app.run()
    for page in (FIRST, COMPARE):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not errors(at), (page, errors(at))


def test_build_stores_runs_in_a_new_project_and_shows_the_diagnosis(first_page,
                                                                     empty_project, built):
    at = _upload(first_page, _csv(_table()))
    assert not errors(at)
    roles = at.data_editor[0].value.set_index("name")["role"].to_dict()
    assert roles == {"x": "numeric", "color": "categorical", "note": "text",
                     "constant_target": "drop"}
    destination = at.radio(key="fs_dest")
    assert destination.value == str(built)  # the default: a new project named after the file
    assert destination.options == [  # shown with their labels, the new project first
        f"a new project named after the file: `{built}`",
        "`empty`: the open project (empty)", "another project folder..."]

    _build(at)
    assert not errors(at), errors(at)
    assert _n_runs(empty_project) == 0  # the open project is left alone
    proj = mlstrat.open_project(built)
    runs = proj.runs()
    assert len(runs) == 4  # trivial, linear, two networks
    chosen = [int(i) for i in runs["id"]
              if proj.get_run(int(i)).config["baseline"]["chosen"]]
    assert len(chosen) == 1
    from app_pages._common import status_title

    from mlstrat.diagnosis import Diagnosis

    stored = Diagnosis.from_dict(proj.get_run(chosen[0]).diagnosis)
    assert status_title(stored) in [h.value for h in at.subheader]
    assert at.get("vega_lite_chart"), "no ladder chart"
    _assert_measurement_told(at, stored)
    _assert_checks_shown(at)
    assert len(proj.error_sessions()) == 1
    assert any("in project `table_project`.\n\n" in s.value for s in at.success)
    assert f"in project `table_project` (`{built}`)." in texts(at)  # the folder in full
    assert "First iteration in this project" in texts(at)
    _assert_outcome_under_the_build_button(at, stored)

    # open the new project: the other pages then show its runs and its session
    at.button(key="fs_open_built").click().run()
    assert not at.exception
    assert at.session_state["project_path"] == str(built)
    assert at.session_state["error_session"] == int(proj.error_sessions()["id"].iloc[0])
    assert at.session_state["chosen_run"] == chosen[0]

    # the next iteration goes to the same project (made from this data) and is compared
    assert at.radio(key="fs_dest").value == str(built)
    assert at.radio(key="fs_dest").options[0].startswith(
        "`table_project`: made from this data (4 runs")
    _build(at, hidden="8")
    assert not errors(at), errors(at)
    assert _n_runs(built) == 7  # trivial, linear, one network
    assert any("McNemar exact" in t for t in texts(at).splitlines())


def _walk(node):
    """The page's elements in the order they are drawn (depth first)."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from _walk(children[key])


def _assert_outcome_under_the_build_button(at, stored) -> None:
    """After Build, the outcome is said right under the button (no scrolling to see
    that it worked): the best model, its dev error as the ladder shows it, the primary
    problem in words; the Open button beside Build; the same in a toast."""
    result = at.session_state["first_system_result"]["result"]
    best = result.best
    dev = next(r for r in stored.rungs if r.name == "dev")
    figure = f"dev error {stored.format_value(dev.rate)}"
    assert figure.endswith("%") and best.name
    order = [e for e in _walk(at.main) if getattr(e, "type", None) in
             ("button", "success", "header", "status")]
    kinds = [(e.type, getattr(e, "key", None)) for e in order]
    build = kinds.index(("button", "fs_build"))
    assert kinds[build + 1] == ("button", "fs_open_built"), kinds  # beside Build
    summary = order[build + 2]
    assert summary.type == "success", kinds  # then the outcome, before the report
    from app_pages._common import status_title
    assert f"Best on dev: **{best.name}** (run #{best.run_id}), {figure}." in summary.value
    assert f"**{status_title(stored)}.**" in summary.value
    assert f"Iteration {result.iteration}: 4 runs stored" in summary.value
    assert [t.value for t in at.toast] == [
        f"Built: best {best.name} (run #{best.run_id}), {figure}."]


def _assert_checks_shown(at) -> None:
    """Every check of the data is on the page: problems in a box, the rest ticked."""
    result = at.session_state["first_system_result"]["result"]
    assert "Checks of the data" in [h.value for h in at.subheader]
    boxes = [w.value for w in at.warning] + [i.value for i in at.info]
    shown = texts(at)
    for _kind, message, severity in result.checks:
        assert (message in boxes) if severity in ("warning", "info") else (message in shown)
    assert "No train-dev set: no domain column: train and dev" in shown
    assert "choose a domain column, or Train-dev set: yes, to carve one" in shown
    assert "--" not in shown.replace("- ", "")  # no command-line flag on the page


def _assert_measurement_told(at, diagnosis) -> None:
    """Early stopping, the choice on dev among N models and the unbiased test figure."""
    result = at.session_state["first_system_result"]["result"]
    info = next(i.value for i in at.info if "Early stopping" in i.value)
    assert "never trained on; dev is never used while fitting" in info
    n = result.selection["n_models"]
    assert f"among {n} models**: {result.best.name}" in info and "biased low" in info
    test = next(r for r in diagnosis.rungs if r.name == "test")
    assert (f"**Test {diagnosis.format_value(test.rate)}** [{diagnosis.format_value(test.low)}, "
            f"{diagnosis.format_value(test.high)}]") in info
    assert "unbiased figure of the chosen model" in info
    if result.resampling["method"] == "kfold":
        assert "repeated out-of-fold predictions**, not one split" in info
        assert result.resampling["reason"] in info
        assert "from one split" in info   # the narrower interval against the split's
    else:
        assert "**Rungs from one split**" in info


def test_the_outcome_of_another_file_is_not_shown_under_its_build_button(first_page,
                                                                       built):
    """Build with one file, then upload another: the first file's outcome no longer
    sits under the Build button as if it were this file's; it comes back with its file."""
    at = _build(_upload(first_page, _csv(_table())))
    assert any("runs stored" in s.value for s in at.success)
    at = _upload(at, _csv(_table(seed=1)), name="other.csv")
    assert not any("runs stored" in s.value for s in at.success)
    assert "Iteration 1" not in [h.value for h in at.header]
    at = _upload(at, _csv(_table()))
    assert any("runs stored" in s.value for s in at.success)


def test_one_split_can_be_asked_for(first_page, built):
    at = _upload(first_page, _csv(_table()))
    _build(at, resampling="split")
    assert not errors(at), errors(at)
    result = at.session_state["first_system_result"]["result"]
    assert result.resampling["method"] == "split"
    info = next(i.value for i in at.info if "Early stopping" in i.value)
    assert "**Rungs from one split**: asked for (Rungs measured by: one split)." in info
    table = next(d.value for d in at.dataframe if "chosen on dev" in d.value.columns)
    assert table["dev"].str.endswith("%").all() and "outcome" in table.columns
    assert not table["outcome"].str.contains("_").any()
    # the dev error rate is the dev column: no second column repeating it as a fraction
    assert result.metric == "error" and not [c for c in table.columns if "dev error" in c]


def test_a_role_override_reaches_the_runs(first_page, built):
    data = _csv(_table())
    at = _upload(first_page, data)
    key = f"fs_roles_{hashlib.sha256(data).hexdigest()[:12]}_label_None_None"
    assert key in at.session_state
    at.session_state[key] = {"edited_rows": {1: {"role": "drop"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert "color -> drop" in texts(at)
    _build(at)
    assert not errors(at), errors(at)
    proj = mlstrat.open_project(built)
    config = proj.get_run(int(proj.runs()["id"].iloc[-1])).config["baseline"]
    assert config["roles"]["color"] == "drop"
    assert config["features"] == ["x"]


# --------------------------------------------------------------------- target and train-dev
def test_a_target_is_preselected_only_when_named_like_one(first_page):
    at = _upload(first_page, _csv(_table()))
    assert at.selectbox(key="fs_target").value == "label"
    assert "Preselected: named like a target ('label')." in texts(at)
    assert not at.button(key="fs_build").disabled


def test_without_a_target_like_name_the_user_must_choose(first_page, empty_project):
    """Penguins: the last column is 'year'; nothing is preselected, Build waits."""
    at = _upload(first_page, _csv(penguins()), "penguins.csv")
    assert at.selectbox(key="fs_target").value is None
    assert "No column is named like a target" in texts(at)
    assert any("Choose the target" in i.value for i in at.info)
    assert at.button(key="fs_build").disabled
    at.selectbox(key="fs_target").set_value("species").run()
    assert not at.button(key="fs_build").disabled
    assert at.radio(key="fs_dest").value == str(empty_project.parent / "penguins_project")


def test_train_dev_is_a_choice_explained_and_passed_on(first_page, built):
    at = _upload(first_page, _csv(_table()))
    assert at.selectbox(key="fs_train_dev").value == "auto"
    assert "Without one, train and dev share one distribution" in texts(at)
    at.selectbox(key="fs_train_dev").set_value("yes").run()
    _build(at, resampling="split")
    assert not errors(at), errors(at)
    result = at.session_state["first_system_result"]["result"]
    assert result.train_dev["carved"] is True and "train_dev" in result.split_sizes
    assert "Train-dev set: asked for (Train-dev set: yes)." in texts(at)


def test_repeated_rows_are_a_warning_on_the_page(first_page, built):
    frame = _table(120)
    at = _upload(first_page, _csv(pd.concat([frame, frame], ignore_index=True)))
    _build(at, resampling="split")
    assert not errors(at), errors(at)
    assert any("repeat a training row exactly" in w.value for w in at.warning), \
        [w.value for w in at.warning]


# --------------------------------------------------------------------- bad input
def _refused(at, message: str, *folders: Path, before: list) -> None:
    """The page says ``message`` in an error box and no project changed."""
    assert any(message in e for e in errors(at)), errors(at)
    assert any("nothing was built or stored" in e.lower() for e in errors(at)), errors(at)
    assert [_state(f) for f in folders] == before


@pytest.mark.parametrize("data, target, message", [
    (_csv(_table()), "constant_target", "single class"),
    (_csv(_table(n=12)), "label", "Too few rows"),
    (_csv(pd.DataFrame({"id": [f"r{i}" for i in range(60)], "label": [0, 1] * 30})),
     "label", "No column can be used as a feature"),
])
def test_bad_input_shows_the_library_message_and_stores_nothing(first_page, empty_project,
                                                                built, data, target, message):
    at = _upload(first_page, data)
    before = [_state(empty_project), None]
    _build(at, target=target)
    _refused(at, message, empty_project, built, before=before)
    assert "first_system_result" not in at.session_state


def test_a_dev_set_of_one_class_is_refused(first_page, empty_project):
    """Penguins of Torgersen are all Adelie: a dev set from them cannot choose a model."""
    at = _upload(first_page, _csv(penguins()), "penguins.csv")
    at.selectbox(key="fs_target").set_value("species").run()
    at.selectbox(key="fs_domain_col").set_value("island").run()
    at.selectbox(key="fs_domain_value").set_value("Torgersen").run()
    new = empty_project.parent / "penguins_project"
    before = [_state(empty_project), None]
    _build(at, target="species")
    _refused(at, "single class", empty_project, new, before=before)
    assert any("cannot give a meaningful ladder" in e for e in errors(at))


def test_a_file_of_another_dataset_is_refused_by_its_project(first_page, built):
    at = _upload(first_page, _csv(_table()))
    _build(at, resampling="split")
    assert not errors(at), errors(at)
    before = [_state(built)]
    other = _table(seed=1)  # same columns and target, other rows
    at = _upload(at, _csv(other), "table_v2.csv")
    assert at.radio(key="fs_dest").value == str(built.parent / "table_v2_project")
    _build(at, resampling="split", destination=built)  # typed in: the project of table.csv
    _refused(at, "holds runs of another dataset", built, before=before)
    assert not (built.parent / "table_v2_project").exists()
    shown = " ".join(errors(at))
    assert "Store the runs of `table_v2.csv` in a new project" in shown
    assert "--project" not in shown and "data_project" not in shown

    # the user says it is a new version of that data: stored, never compared
    at.checkbox(key="fs_allow_new_data").check().run()
    at.button(key="fs_build").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert len(_state(built)[0]) == len(before[0][0]) + 4
    assert "another version of this data" in texts(at)


def test_a_folder_that_cannot_be_a_project_is_an_error(first_page, empty_project, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    at = _upload(first_page, _csv(_table()))
    _build(at, resampling="split", destination=tmp_path / "a_file" / "project")
    assert any("cannot be written" in e and "Choose another folder" in e
               for e in errors(at)), errors(at)
    assert _n_runs(empty_project) == 0


@pytest.mark.parametrize("data, name, message", [
    (b"PK\x03\x04 this is not a workbook", "table.xlsx", "is not a readable XLSX workbook"),
    (b"", "table.csv", "cannot be used"),
    (b"only_one_column\n1\n2\n", "table.csv", "single column"),
    (b"id\nr1\nr2\nr3\n", "ids.csv", "single column ('id')"),
])
def test_a_file_that_cannot_be_read_shows_an_error(first_page, empty_project, data, name,
                                                   message):
    at = _upload(first_page, data, name)
    assert any(message in e for e in errors(at)), errors(at)
    assert all(name in e and "/tmp" not in e and "upload." not in e for e in errors(at))
    assert not at.button  # no Build button
    assert _n_runs(empty_project) == 0
    assert not any(empty_project.parent.glob("*_project"))


# --------------------------------------------------------------------- compare runs
def _paired_runs(folder) -> tuple[int, int]:
    """Two runs on the same 200 dev examples: A wrong on 40, B on 15 of them and 5 new."""
    proj = mlstrat.open_project(folder)
    y = np.r_[np.zeros(100, int), np.ones(100, int)]
    a, b = y.copy(), y.copy()
    a[:40] = 1 - a[:40]
    b[25:40] = 1 - b[25:40]
    b[150:155] = 1 - b[150:155]
    ids = [f"r{i}" for i in range(200)]

    def dev(pred):
        return {"dev": pd.DataFrame({"id": ids, "y_true": y, "y_pred": pred})}

    sizes = {"train": 1000, "dev": 200}
    ra = proj.log_run("A", errors={"train": 0.1, "dev": 0.2}, sizes=sizes, predictions=dev(a))
    rb = proj.log_run("B", errors={"train": 0.08, "dev": 0.1}, sizes=sizes,
                      predictions=dev(b))
    return ra, rb


def test_compare_shows_the_mcnemar_numbers_of_compare_runs(app, small_project):
    ra, rb = _paired_runs(small_project)
    expected = compare_runs(mlstrat.open_project(small_project), ra, rb)
    at = app.run()
    at.switch_page(COMPARE).run()
    assert not at.exception
    assert not errors(at), errors(at)
    assert at.selectbox(key="compare_a").value == ra  # default: the two newest
    assert at.selectbox(key="compare_b").value == rb
    shown = {m.label: m.value for m in at.metric}
    assert shown["b: right only by A"] == str(expected.test["b"])
    assert shown["c: right only by B"] == str(expected.test["c"])
    assert shown["p-value (exact McNemar)"] == f"{expected.test['pvalue']:.3g}"
    assert (expected.test["b"], expected.test["c"]) == (5, 25)
    assert any("B is better: the difference is real" in s.value for s in at.success)


def test_compare_runs_without_predictions_warns(app, small_project):
    proj = mlstrat.open_project(small_project)
    at = app.run()
    at.switch_page(COMPARE).run()
    at.selectbox(key="compare_a").set_value(int(proj.get_run("bias run").id))
    at.selectbox(key="compare_b").set_value(int(proj.get_run("mismatch run").id)).run()
    assert not at.exception
    assert any("stored no 'dev' predictions" in w.value for w in at.warning)
    assert not at.metric


def test_compare_runs_whose_dev_sets_differ_warns(app, small_project):
    ra, _ = _paired_runs(small_project)
    proj = mlstrat.open_project(small_project)
    at = app.run()
    at.switch_page(COMPARE).run()
    at.selectbox(key="compare_a").set_value(ra)
    at.selectbox(key="compare_b").set_value(int(proj.get_run("mismatch run").id)).run()
    assert not at.exception
    assert any("sets differ" in w.value for w in at.warning), [w.value for w in at.warning]


def test_compare_refuses_runs_of_different_datasets(app, small_project):
    """Two runs on the same dev ids but made from other data: an error, no test."""
    proj = mlstrat.open_project(small_project)
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    dev = {"dev": pd.DataFrame({"id": [f"r{i}" for i in range(100)], "y_true": y,
                                "y_pred": y})}
    fp = {"sha256": "a" * 64, "target": "label", "columns": ["label", "x"], "n_rows": 500}
    ra = proj.log_run("digits", errors={"train": 0.1, "dev": 0.2}, predictions=dev,
                      sizes={"train": 400, "dev": 100}, dataset=fp)
    rb = proj.log_run("penguins", errors={"train": 0.1, "dev": 0.1}, predictions=dev,
                      sizes={"train": 400, "dev": 100},
                      dataset={**fp, "target": "species", "columns": ["species", "x"]})
    at = app.run()
    at.switch_page(COMPARE).run()
    assert (at.selectbox(key="compare_a").value, at.selectbox(key="compare_b").value) == (ra, rb)
    assert not at.exception
    assert any(f"runs {ra} and {rb} were made from different datasets" in e
               for e in errors(at)), errors(at)
    assert not at.metric and not at.get("vega_lite_chart")


def test_a_regression_is_shown_in_the_target_units(first_page, empty_project):
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=300), rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "z": z,
                          "price": 100 + 30 * x + 10 * z ** 2 + rng.normal(scale=5, size=300)})
    at = _upload(first_page, _csv(frame))
    at.selectbox(key="fs_target").set_value("price").run()  # no column named like a target
    at.number_input(key="fs_epochs").set_value(5)
    at.run()
    at.button(key="fs_build").click().run()
    assert not at.exception and not errors(at), errors(at)
    result = at.session_state["first_system_result"]["result"]
    d = result.diagnosis
    assert d.metric == "RMSE"
    table = next(t.value for t in at.dataframe if "chosen on dev" in t.value.columns)
    best = table[table["chosen on dev"] == "yes"].iloc[0]
    assert best["dev"] == d.format_value(d.rates["dev"]) and not best["dev"].endswith("%")
    assert not table["outcome"].str.contains("_").any()
    # chosen on the dev MSE, named in capitals: the square of the dev RMSE column
    assert result.metric == "mse" and "dev MSE" in table.columns
    assert ("One row per model; the rungs are the RMSE in the target's units; the model is "
            "chosen on the dev MSE.") in texts(at)
    assert float(best["dev MSE"]) == pytest.approx(d.rates["dev"] ** 2, rel=1e-3)
    if d.status == "problem":  # in short words; in full in the diagnosis below
        assert best["outcome"] == d.problem.split(" (")[0] and "(" not in best["outcome"]
    info = next(i.value for i in at.info if "Early stopping" in i.value)
    assert f"dev RMSE {d.format_value(d.rates['dev'])} is biased low" in info
    gaps = next(t.value for t in at.dataframe if "to tell" in t.value.columns)
    assert not gaps["value"].str.contains("%| pt").any()


# --------------------------------------------------------------------- one project per dataset
def _wine_csv(folder: Path) -> Path:
    from sklearn.datasets import load_wine

    path = folder / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    return path


def _crowd(parent: Path, n_folders: int = 260, n_projects: int = 60) -> None:
    """Many folders beside the projects, sorted before 'wine_project' (as in /tmp), and
    projects of other data written after it (the newest)."""
    for i in range(n_folders):
        (parent / f"a_{i:03d}").mkdir()
    for i in range(n_projects):
        mlstrat.open_project(parent / f"a_{i:03d}").close()


@pytest.fixture
def crowded(tmp_path, monkeypatch):
    """/tmp as found: the open project 'wproj' and the wine data beside it among hundreds
    of other folders and dozens of other projects."""
    parent = tmp_path / "tmp"
    parent.mkdir()
    wproj = parent / "wproj"
    mlstrat.open_project(wproj).close()
    monkeypatch.setenv("MLSTRAT_PROJECT", str(wproj))
    return parent, _wine_csv(tmp_path)


def test_a_project_built_from_the_file_on_the_command_line_is_offered_first(crowded):
    """The wine table built with `mlstrat baseline` into wine_project, beside the open
    project among 260 folders: uploading the same file offers wine_project, not a
    new wine_2_project (the page once looked at the first 200 folders only)."""
    from streamlit.testing.v1 import AppTest

    from mlstrat.cli import main

    parent, csv = crowded
    built = parent / "wine_project"
    assert main(["baseline", str(csv), "--target", "target", "--project", str(built),
                 "--max-epochs", "2", "--resampling", "split", "--quiet"]) == 0
    _crowd(parent)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(FIRST).run()
    at = _upload(at, csv.read_bytes(), "wine.csv")
    assert at.selectbox(key="fs_target").value == "target"
    radio = at.radio(key="fs_dest")
    assert radio.value == str(built)
    assert radio.options[0].startswith("`wine_project`: made from this data (4 runs")
    assert radio.options[1].startswith("a new project named after the file")  # second

    _build(at, target="target", resampling="split")  # the default: into wine_project
    assert not errors(at), errors(at)
    assert _n_runs(built) == 8 and not (parent / "wine_2_project").exists()
    assert any("McNemar exact" in t for t in texts(at).splitlines())


def test_a_project_built_on_the_page_is_found_and_used_by_the_library(crowded):
    """The other way: the page builds wine_project from the upload; the library finds it
    from the file (same data, same target) and the command line adds runs to it."""
    from streamlit.testing.v1 import AppTest

    from mlstrat.cli import main
    from mlstrat.first_system import fingerprint, project_dataset, projects_of_data, read_table

    parent, csv = crowded
    _crowd(parent, n_projects=0)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(FIRST).run()
    at = _upload(at, csv.read_bytes(), "wine.csv")
    built = parent / "wine_project"
    assert at.radio(key="fs_dest").value == str(built)  # new: named after the file
    _build(at, target="target", resampling="split")
    assert not errors(at), errors(at)
    assert _n_runs(built) == 4

    from_file = fingerprint(read_table(csv), "target", path=csv)
    assert projects_of_data(parent / "wproj", from_file) == [(built, 4)]
    stored = project_dataset(built)[1]  # the upload's name, as the command stores the file's
    assert stored == {**from_file, "file_sha256": None}
    assert main(["baseline", str(csv), "--target", "target", "--project", str(built),
                 "--max-epochs", "2", "--resampling", "split", "--quiet"]) == 0
    assert _n_runs(built) == 8  # accepted: same data, no refusal
