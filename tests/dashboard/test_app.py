"""AppTest checks of every page against a small project built in tmp_path."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import mlstrat
from tests.dashboard.dashboard_project import APP, MISMATCH

PAGES = ["overview", "first_system", "compare", "training", "tuning", "error_analysis",
         "splits", "upload"]


# --------------------------------------------------------------------- helpers
def chart_frames(at) -> list[pd.DataFrame]:
    """The data of every Altair chart on the page, one frame per dataset."""
    import pyarrow as pa

    frames = []
    for chart in at.get("vega_lite_chart"):
        proto = chart.proto
        spec = json.loads(proto.spec)
        for values in (spec.get("datasets") or {}).values():
            frames.append(pd.DataFrame(values))
        if "data" in spec and "values" in spec["data"]:
            frames.append(pd.DataFrame(spec["data"]["values"]))
        for named in proto.datasets:
            frames.append(pa.ipc.open_stream(named.data.data).read_pandas())
        if proto.data.data:
            frames.append(pa.ipc.open_stream(proto.data.data).read_pandas())
    return frames


def chart_numbers(at) -> set[float]:
    out = set()
    for frame in chart_frames(at):
        for col in frame.columns:
            values = pd.to_numeric(frame[col], errors="coerce").dropna()
            out |= {round(float(v), 6) for v in values}
    return out


def texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.subheader] + \
        [e.value for e in at.caption] + [e.value for e in at.title]
    return "\n".join(str(p) for p in parts)


def errors(at) -> list[str]:
    return [str(e.value) for e in at.error]


# --------------------------------------------------------------------- every page
def test_every_page_renders(app):
    at = app.run()
    assert not at.exception
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not errors(at), (page, errors(at))
        assert at.title, f"page {page} shows no title"


# --------------------------------------------------------------------- overview
def test_overview_shows_the_newest_runs_ladder_and_diagnosis(app):
    at = app.run()
    assert not at.exception
    numbers = chart_numbers(at)
    for rate in (0.01, *MISMATCH.values()):
        assert round(rate, 6) in numbers, f"{rate} missing from the ladder chart"
    assert "Primary problem: data mismatch" in texts(at)
    assert any("artificial data synthesis" in t for t in texts(at).splitlines())
    assert not errors(at)


def test_overview_computes_a_diagnosis_when_none_is_stored(app, small_project):
    at = app.run()
    run_id = int(mlstrat.open_project(small_project).get_run("bias run").id)
    at.selectbox(key="run_select_overview").select(run_id).run()
    assert not at.exception
    assert "Primary problem: avoidable bias" in texts(at)
    assert "computed from the run's errors" in texts(at)
    assert 0.09 in chart_numbers(at)


def test_run_with_missing_splits_shows_an_error(app, small_project):
    at = app.run()
    run_id = int(mlstrat.open_project(small_project).get_run("only dev").id)
    at.selectbox(key="run_select_overview").select(run_id).run()
    assert not at.exception
    assert any("no training error" in e for e in errors(at))


def test_the_chosen_run_follows_to_the_training_page(app, small_project):
    at = app.run()
    run_id = int(mlstrat.open_project(small_project).get_run("bias run").id)
    at.selectbox(key="run_select_overview").select(run_id).run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception
    assert at.selectbox(key="run_select_training").value == run_id


def test_runs_without_diagnosis_are_listed(app, small_project):
    mlstrat.open_project(small_project).log_run("no diagnosis", errors={"train": 0.1})
    at = app.run()
    assert not at.exception


# --------------------------------------------------------------------- project chooser
def test_a_file_that_is_not_a_store_shows_an_error(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes\n" * 10)
    before = bad.read_bytes()
    monkeypatch.setenv("MLSTRAT_PROJECT", str(bad))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("not an mlstrat project store" in e for e in errors(at)), errors(at)
    assert bad.read_bytes() == before


def test_a_missing_folder_shows_an_error_and_creates_nothing(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    missing = tmp_path / "no" / "such" / "project"
    monkeypatch.setenv("MLSTRAT_PROJECT", str(missing))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("No mlstrat project" in e for e in errors(at))
    assert not (tmp_path / "no").exists()


def test_the_sidebar_switches_project(app, small_project, tmp_path):
    other = tmp_path / "other"
    proj = mlstrat.open_project(other)
    proj.log_run("elsewhere", errors={"train": 0.2, "dev": 0.3}, sizes={"train": 100,
                                                                       "dev": 100})
    at = app.run()
    at.text_input(key="project_path").set_value(str(other)).run()
    assert not at.exception
    assert "#1 elsewhere" in at.selectbox(key="run_select_overview").options


# --------------------------------------------------------------------- upload
def _predictions_csv(n: int = 300, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    rows = []
    for split, err in (("train", 0.02), ("train_dev", 0.04), ("dev", 0.15)):
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < err, 1 - y, y)
        p1 = np.clip(np.where(pred == 1, 0.8, 0.2) + rng.normal(0, 0.05, n), 0, 1)
        rows.append(pd.DataFrame({"split": split, "id": [f"{split}-{i}" for i in range(n)],
                                  "y_true": y, "y_pred": pred, "proba_0": 1 - p1,
                                  "proba_1": p1, "feature_a": rng.normal(size=n)}))
    return pd.concat(rows).to_csv(index=False).encode()


def test_upload_creates_a_run_read_back_from_the_store(app, small_project):
    data = _predictions_csv()
    at = app.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="predictions_csv").set_value(("preds.csv", data, "text/csv")).run()
    assert not at.exception
    assert not errors(at)
    at.text_input(key="upload_run_name").set_value("from a csv").run()
    at.button(key="upload_create").click().run()
    assert not at.exception
    assert not errors(at)
    assert any("Stored as run" in s.value for s in at.success)

    proj = mlstrat.open_project(small_project)
    run = proj.get_run("from a csv")
    expected = pd.read_csv(io.BytesIO(data))
    for split in ("train", "train_dev", "dev"):
        part = expected[expected["split"] == split]
        assert run.sizes[split] == len(part)
        assert run.errors[split] == pytest.approx(np.mean(part["y_true"] != part["y_pred"]))
    assert run.diagnosis["primary"] == "data_mismatch"
    dev = proj.run_predictions(run.id, "dev")
    assert dev["id"].tolist() == expected.loc[expected["split"] == "dev", "id"].tolist()
    assert "proba_1" in dev.columns


def test_a_regression_upload_is_stored_in_target_units(app, small_project):
    rng = np.random.default_rng(3)
    rows = []
    for split, noise in (("train", 1.0), ("dev", 4.0)):
        y = rng.normal(100, 30, 200).round(2)
        rows.append(pd.DataFrame({"split": split, "y_true": y,
                                  "y_pred": (y + rng.normal(0, noise, 200)).round(2)}))
    frame = pd.concat(rows)
    at = app.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="predictions_csv").set_value(
        ("reg.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    at.text_input(key="upload_run_name").set_value("regression csv").run()
    at.button(key="upload_create").click().run()
    assert not at.exception and not errors(at)
    run = mlstrat.open_project(small_project).get_run("regression csv")
    dev = frame[frame["split"] == "dev"]
    assert run.metric == "RMSE"
    rmse = np.sqrt(np.mean((dev["y_true"] - dev["y_pred"]) ** 2))
    assert run.errors["dev"] == pytest.approx(rmse)
    assert run.diagnosis["metric"] == "RMSE"


MALFORMED = [
    (b"split,y_true\ntrain,1\n", "Missing column(s) ['y_pred']"),
    (b"split,y_true,y_pred\ntrain,1,1\nholdout,0,1\n", "Unknown split name(s) ['holdout']"),
    (b"split,y_true,y_pred\ntrain,1,\n", "Column 'y_pred' is empty in 1 row(s)"),
    (b"split,y_true,y_pred,proba_1\ntrain,1,1,1.7\n", "Column 'proba_1' must hold probabilities"),
    (b"split,id,y_true,y_pred\ndev,a,1,1\ndev,a,0,1\n", "Duplicate example id 'a'"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"),
    (b"", "The file is empty"),
]


def test_a_malformed_upload_shows_an_error_and_writes_nothing(app, small_project):
    before = mlstrat.open_project(small_project).runs()["id"].tolist()
    at = app.run()
    at.switch_page("app_pages/upload.py").run()
    for content, message in MALFORMED:
        at.file_uploader(key="predictions_csv").set_value(("bad.csv", content, "text/csv")).run()
        if _has_button(at):  # problems only the store finds show on "Create"
            at.button(key="upload_create").click().run()
        assert not at.exception, message
        assert any(message in e for e in errors(at)), (message, errors(at))
    assert mlstrat.open_project(small_project).runs()["id"].tolist() == before


def _has_button(at) -> bool:
    return any(b.key == "upload_create" for b in at.button)


def test_an_upload_over_the_size_limit_is_refused(monkeypatch):
    from mlstrat import predictions

    with pytest.raises(ValueError, match="the limit is 1 MB"):
        predictions.read_predictions_csv(b"x" * (2 * 2**20), max_bytes=2**20)
    with pytest.raises(ValueError, match="3 rows; the limit is 2"):
        predictions.read_predictions_csv(b"split,y_true,y_pred\n" + b"dev,1,1\n" * 3, max_rows=2)


# --------------------------------------------------------------------- splits
def test_split_calculator_handles_the_mismatched_case(app):
    at = app.run()
    at.switch_page("app_pages/splits.py").run()
    assert not at.exception
    plan = at.dataframe[0].value
    assert int(plan.loc[plan["split"] == "dev", "size"].iloc[0]) == 10_000
    at.toggle(key="splits_mismatched").set_value(True).run()
    at.number_input(key="splits_n").set_value(500_000).run()
    assert not at.exception
    plan = at.dataframe[0].value
    sizes = dict(zip(plan["split"], plan["size"], strict=True))
    assert sizes == {"train": 505_000, "train_dev": 5_000, "dev": 5_000, "test": 5_000}
    assert "mismatched distributions" in texts(at)


def test_distribution_checks_on_an_uploaded_csv(app):
    rng = np.random.default_rng(0)
    n = 150
    frame = pd.concat([
        pd.DataFrame({"split": "train", "a": rng.normal(0, 1, n), "b": rng.normal(size=n)}),
        pd.DataFrame({"split": "dev", "a": rng.normal(3, 1, n), "b": rng.normal(size=n)}),
        pd.DataFrame({"split": "test", "a": rng.normal(3, 1, n), "b": rng.normal(size=n)}),
    ])
    at = app.run()
    at.switch_page("app_pages/splits.py").run()
    at.radio(key="splits_source").set_value("Upload a CSV").run()
    at.file_uploader(key="splits_csv").set_value(
        ("features.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    at.button(key="splits_run").click().run()
    assert not at.exception
    page = texts(at)
    assert "dev vs test: no evidence of a difference at this size" in page
    assert "train vs dev: different distributions" in page


# --------------------------------------------------------------------- error analysis
def _session(folder):
    from mlstrat.errors import open_session

    return open_session(mlstrat.open_project(folder), "test session")


def _edit(at, edited_rows: dict) -> None:
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}
    at.run()


def test_a_tag_edit_in_the_grid_is_stored_at_once_and_only_that_cell(app, small_project):
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    assert not at.exception
    order = _session(small_project).tag_table()["id"].tolist()
    assert len(order) > 50, "the fixture needs more than one page of errors"
    grid = at.data_editor[0].value
    assert grid["id"].tolist() == order[:50]          # stable review order, 50 a page
    assert grid["example"].str.startswith("data:image/png").all()

    _edit(at, {1: {"blurry": True}, 0: {"note": "dark and tilted"}})
    assert not at.exception and not errors(at)
    table = _session(small_project).tag_table().set_index("id")
    assert bool(table.loc[order[1], "blurry"]) is True
    assert table.loc[order[0], "note"] == "dark and tilted"
    assert int(table["blurry"].sum()) == 1 and int((table["note"] != "").sum()) == 1
    audit = _session(small_project).history()
    writes = len(audit)
    at.run()                                           # a rerun writes nothing again
    assert len(_session(small_project).history()) == writes
    assert bool(at.data_editor[0].value.loc[1, "blurry"]) is True

    at.number_input(key="tag_page_1").set_value(2).run()
    assert at.data_editor[0].value["id"].tolist() == order[50:100]
    _edit(at, {0: {"incorrectly labelled": True}})
    table = _session(small_project).tag_table().set_index("id")
    assert bool(table.loc[order[50], "incorrectly labelled"]) is True
    assert int(table["incorrectly labelled"].sum()) == 1


def _submit(at, label: str):
    return next(b for b in at.button if b.label == label).click().run()


def test_categories_are_added_and_renamed_keeping_tags(app, small_project):
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    first = at.data_editor[0].value["id"].iloc[0]
    at.text_input(key="new_category").set_value("dark")
    _submit(at, "Add the category")
    assert not at.exception and not errors(at)
    assert "dark" in at.data_editor[0].value.columns
    _edit(at, {0: {"dark": True}})
    at.selectbox(key="rename_from").set_value("dark")
    at.text_input(key="rename_to").set_value("underexposed")
    _submit(at, "Rename (tags are kept)")
    assert not at.exception and not errors(at)
    table = _session(small_project).tag_table().set_index("id")
    assert "dark" not in table.columns and bool(table.loc[first, "underexposed"])
    at.text_input(key="new_category").set_value("UNDEREXPOSED")   # duplicate name
    _submit(at, "Add the category")
    assert not at.exception
    assert errors(at), "a duplicate category name must show st.error"


def test_error_page_shows_summary_and_exports(app, small_project):
    session = _session(small_project)
    session.tag(session.sample_ids()[0], "blurry")
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    assert not at.exception
    assert "Work next on:** blurry" in texts(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download XLSX", "Download CSV"]


def _headers(element) -> dict[str, str]:
    """A dataframe's column -> the header the page gives it (its column_config)."""
    import json

    config = json.loads(element.proto.columns or "{}")
    return {k.removeprefix("col:name:") if k.startswith("col:") else k: v.get("label", k)
            for k, v in config.items()}


def test_the_error_summary_headers_are_words(app, small_project):
    session = _session(small_project)
    session.tag(session.sample_ids()[0], "blurry")
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    assert not at.exception
    summary = next(d for d in at.dataframe if "ceiling_high" in d.value.columns)
    shown = _headers(summary)
    assert shown["share_low"] == "share low" and shown["ceiling_high"] == "ceiling high"
    assert shown["builtin"] == "built in"
    assert not [c for c in summary.value.columns if "_" in c and "_" in shown.get(c, c)]


def test_a_tabular_example_shows_its_features(app, small_project):
    """A session of table rows (no image, no text): 'Look at an example' lists the
    features stored for the chosen example, in its order."""
    from mlstrat.errors import new_session

    proj = mlstrat.open_project(small_project)
    run_id = int(proj.runs().set_index("name").loc["mismatch run", "id"])
    preds = proj.run_predictions(run_id, "dev")
    ids = preds["id"].astype(str).tolist() if "id" in preds.columns else \
        [str(i) for i in range(len(preds))]
    feats = pd.DataFrame({"id": ids, "mean radius": np.arange(len(ids)) + 0.5,
                          "site": ["left" if i % 2 else "right" for i in range(len(ids))]})
    tabular = new_session(proj, run_id, name="rows", n=20, features=feats)
    proj.close()
    at = app.run()
    at.session_state["error_session"] = int(tabular.id)
    at.switch_page("app_pages/error_analysis.py").run()
    assert not at.exception
    shown = at.selectbox(key=f"example_{int(tabular.id)}").value
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["feature", "value"])
    expected = feats.set_index("id").loc[shown]
    assert table["feature"].tolist() == ["mean radius", "site"]
    assert table["value"].tolist() == [str(expected["mean radius"]), expected["site"]]
    assert "The 2 feature(s) stored with the session for this example." in texts(at)


def test_export_opens_as_xlsx_and_a_tagged_sheet_imports_back(app, small_project, tmp_path):
    import openpyxl

    session = _session(small_project)
    xlsx = session.export(tmp_path / "tags.xlsx")
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames and book.worksheets[0].max_row == len(session.sample_ids()) + 1

    sheet = pd.read_csv(session.export(tmp_path / "tags.csv"), dtype=str, keep_default_na=False)
    target = sheet.index[2]
    sheet.loc[target, "blurry"] = "x"
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    at.file_uploader(key="tags_upload").set_value(
        ("tags.csv", sheet.to_csv(index=False).encode(), "text/csv")).run()
    at.button(key="tags_import").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert at.success, "the import report is shown"
    table = session.tag_table().set_index("id")
    assert bool(table.loc[str(sheet.loc[target, "id"]), "blurry"]) is True

    before = session.history()
    broken = sheet.copy()
    broken.loc[broken.index[0], "id"] = "no such example"
    broken.loc[broken.index[1], "blurry"] = "x"
    at.file_uploader(key="tags_upload").set_value(
        ("bad.csv", broken.to_csv(index=False).encode(), "text/csv")).run()
    at.button(key="tags_import").click().run()
    assert not at.exception
    assert any("Nothing was imported" in e or "cannot be imported" in e for e in errors(at))
    assert len(session.history()) == len(before)


# --------------------------------------------------------------------- training
def test_training_shows_history_early_stopping_and_learning_curve(app, small_project):
    at = app.run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception and not errors(at)
    assert [m.value for m in at.metric][:2] == ["12", "epoch 7"]
    history = mlstrat.open_project(small_project).run_history(
        mlstrat.open_project(small_project).get_run("mismatch run").id)
    numbers = chart_numbers(at)
    assert round(float(history["val_loss"].iloc[-1]), 6) in numbers
    assert 7 in numbers                                   # the early-stopping rule
    assert round(0.5 * 1600 ** -0.5 + 0.1, 6) in numbers  # a learning-curve point
    assert "Data needed:" in texts(at)


# --------------------------------------------------------------------- tuning
def test_tuning_choice_follows_the_constraints_typed_on_the_page(app, small_project):
    from mlstrat.tuning import StudyResult
    from tests.dashboard.dashboard_project import STUDY

    proj = mlstrat.open_project(small_project)
    result = StudyResult.from_project(proj, STUDY)
    at = app.run()
    at.switch_page("app_pages/tuning.py").run()
    assert not at.exception and not errors(at)
    assert len(at.get("vega_lite_chart")) == 2            # scores by C, and the choice
    key = f"constraints_{STUDY}"
    # no constraint: the best dev error wins
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    best = result.select().chosen
    assert any(f"Chosen: trial {best} " in s.value for s in at.success), \
        [s.value for s in at.success]
    # a constraint nothing meets: no choice, and the page says why
    at.session_state[key] = {"edited_rows": {}, "deleted_rows": [0],
                             "added_rows": [{"metric": "dev_error", "op": "<", "threshold": 0}]}
    at.run()
    assert not at.exception
    assert any("No candidate satisfies" in w.value for w in at.warning)
    # a satisfiable constraint, then the chosen trial becomes a run
    at.session_state[key] = {"edited_rows": {}, "deleted_rows": [0], "added_rows": [
        {"metric": "dev_error", "op": "<=", "threshold": 1.0}]}
    at.run()
    at.button(key="log_best_run").click().run()
    assert not at.exception and not errors(at)
    assert proj.get_run(f"{STUDY}#{best}").config["study"] == STUDY


# --------------------------------------------------------------------- training (issue 13.9)
def _history_splits(at) -> set[str]:
    """The split names drawn in the per-epoch history chart."""
    out: set[str] = set()
    for frame in chart_frames(at):
        if {"epoch", "split"} <= set(frame.columns):
            out |= set(frame["split"].astype(str))
    return out


def test_training_defaults_to_a_run_with_history_and_a_learning_curve(app, small_project):
    proj = mlstrat.open_project(small_project)
    curve_run = int(proj.get_run("mismatch run").id)
    proj.log_run("newest, no history", errors={"train": 0.1, "dev": 0.2},
                 sizes={"train": 100, "dev": 100})
    at = app.run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception and not errors(at)
    assert at.selectbox(key="run_select_training").value == curve_run
    assert "Data needed:" in texts(at)
    # the Overview still opens on the newest run, and does not impose it on Training
    assert at.selectbox(key="run_select_training").value != int(proj.runs()["id"].max())


def test_training_labels_the_validation_curves_with_their_set(app, small_project):
    from tests.dashboard.pages_project import history

    proj = mlstrat.open_project(small_project)
    mismatch = int(proj.get_run("mismatch run").id)
    carve = proj.log_run("baseline net", errors={"train": 0.05, "dev": 0.1},
                         sizes={"train": 900, "dev": 200}, history=history(),
                         config={"best_epoch": 4, "baseline": {"early_stopping": {
                             "source": "train", "fraction": 0.1, "rows": 100}}})
    train_dev = proj.log_run("stopped on train-dev", errors={
        "train": 0.05, "train_dev": 0.0625, "dev": 0.1}, sizes={
        "train": 800, "train_dev": 160, "dev": 160}, history=history(val_at={5: 0.0625}),
        config={"best_epoch": 5})
    at = app.run()
    at.switch_page("app_pages/training.py").run()
    at.selectbox(key="run_select_training").select(mismatch).run()
    assert not at.exception
    assert _history_splits(at) == {"train", "validation"}      # never called "dev"
    assert "does not record which one" in texts(at)

    at.selectbox(key="run_select_training").select(carve).run()
    assert _history_splits(at) == {"train", "early-stopping carve"}
    assert "100 training rows (10% of train)" in texts(at)
    assert any(m.label == "Early-stopping carve error there" for m in at.metric)

    at.selectbox(key="run_select_training").select(train_dev).run()
    assert _history_splits(at) == {"train", "train-dev"}
    assert "equals this run's stored train-dev error" in texts(at)
    assert not at.exception and not errors(at)


def test_training_follows_a_running_run(app, small_project):
    run = mlstrat.start_run(small_project, "live net", config={"lr": 0.01})
    for epoch in range(3):
        run.log_epoch(epoch, train_loss=1.0 / (epoch + 1), dev_loss=1.2 / (epoch + 1))
    at = app.run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception
    assert any(f"#{run.run_id} 'live net'" in i.value and "Running now" in i.value
               for i in at.info), [i.value for i in at.info]
    at.selectbox(key="run_select_training").select(run.run_id).run()
    assert any("is **running**" in i.value and "3 epochs" in i.value for i in at.info)
    assert at.metric[0].value == "3"
    run.log_epoch(3, train_loss=0.2, dev_loss=0.3)
    at.run()                                   # what the fragment's timer does
    assert at.metric[0].value == "4"
    assert 0.3 in chart_numbers(at)
    run.finish()
    at.run()
    assert not any("running" in i.value for i in at.info)
    assert not at.exception and not errors(at)


# --------------------------------------------------------------------- tuning (issue 13.10)
def _titles(at) -> list[str]:
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title" and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for chart in at.get("vega_lite_chart"):
        walk(json.loads(chart.proto.spec))
    return found


def test_tuning_shows_dates_metrics_only_and_titles_without_doubled_words(app, small_project):
    from mlstrat.tuning import StudyResult
    from tests.dashboard.dashboard_project import STUDY

    at = app.run()
    at.switch_page("app_pages/tuning.py").run()
    assert not at.exception and not errors(at)
    trials = at.dataframe[0].value
    assert "finished_at" not in trials.columns
    assert pd.api.types.is_datetime64_any_dtype(trials["finished"])
    stored = StudyResult.from_project(mlstrat.open_project(small_project), STUDY).to_frame()
    expected = pd.to_datetime(stored["finished_at"], unit="s", utc=True)
    assert (trials["finished"].dt.tz_convert("UTC") - expected).abs().max() < pd.Timedelta("1ms")
    assert trials["finished"].dt.year.min() >= 2024              # a date, not 1970 + seconds
    options = at.selectbox(key=f"optimize_{STUDY}").options
    assert set(options) == {"dev error", "train error", "latency ms", "epochs trained"}
    assert options[0] == "dev error"
    titles = _titles(at)
    assert "Candidates by dev error" in titles
    for title in titles:
        words = [w for w in title.lower().replace("_", " ").split() if w.isalpha()]
        assert len(words) == len(set(words)), f"doubled word in the title {title!r}"


def test_tuning_default_threshold_excludes_no_trial_when_none_is_stored(app, small_project):
    from mlstrat.tuning import StudyResult
    from tests.dashboard.dashboard_project import STUDY

    result = StudyResult.from_project(mlstrat.open_project(small_project), STUDY)
    at = app.run()
    at.switch_page("app_pages/tuning.py").run()
    default = at.data_editor(key=f"constraints_{STUDY}").value
    slowest = float(result.candidates()["latency_ms"].max())
    assert default.to_dict("records") == [{"metric": "latency_ms", "op": "<=",
                                           "threshold": slowest}]
    n = len(result.candidates())
    assert any(f"best of {n} of {n} trials" in s.value for s in at.success)
    assert "median would exclude half" in texts(at)
    # the grid shows the threshold to 6 significant digits, not every digit of a float
    config = json.loads(at.data_editor(key=f"constraints_{STUDY}").proto.columns)
    threshold = next(v for k, v in config.items() if k.endswith("threshold"))
    assert threshold["type_config"]["format"] == "%.6g"


def test_tuning_starts_from_the_studys_stored_constraint(app, small_project):
    from mlstrat.tuning import StudyResult
    from tests.dashboard.pages_project import CONSTRAINED, LATENCY_BUDGET, constrained_study

    constrained_study(small_project)
    result = StudyResult.from_project(mlstrat.open_project(small_project), CONSTRAINED)
    at = app.run()
    at.switch_page("app_pages/tuning.py").run()
    assert not at.exception and not errors(at)
    assert at.selectbox(key="study_select").value == CONSTRAINED    # the newest study
    default = at.data_editor(key=f"constraints_{CONSTRAINED}").value
    assert default.to_dict("records") == [{"metric": "latency_ms", "op": "<=",
                                           "threshold": LATENCY_BUDGET}]
    chosen = result.select().chosen                                  # under the stored one
    assert chosen != result.select(satisfice={}).chosen, "the stored constraint must bind"
    assert any(f"Chosen: trial {chosen} " in s.value for s in at.success), \
        [s.value for s in at.success]
    assert "study's own" in texts(at)


def test_tuning_says_the_choice_in_words_and_an_error_rate_in_percent(app, small_project):
    """'Chosen: trial 1 (dev error 17.33%), best of 3 of 4 trials meeting every
    constraint', not the library's 'Chosen: 1 (dev_error = 0.173333)'."""
    from mlstrat.tuning import StudyResult
    from tests.dashboard.dashboard_project import STUDY

    result = StudyResult.from_project(mlstrat.open_project(small_project), STUDY)
    candidates = result.candidates()
    at = app.run()
    at.switch_page("app_pages/tuning.py").run()
    key = f"constraints_{STUDY}"
    # a constraint the worst trial fails: n - 1 of n meet it
    worst = float(candidates["dev_error"].max())
    at.session_state[key] = {"edited_rows": {}, "deleted_rows": [0], "added_rows": [
        {"metric": "dev_error", "op": "<", "threshold": worst}]}
    at.run()
    assert not at.exception and not errors(at)
    best = candidates.loc[candidates["dev_error"].idxmin()]
    n = len(candidates)
    meeting = int((candidates["dev_error"] < worst).sum())
    assert meeting < n
    expected = (f"Chosen: trial {best['name']} (dev error {100 * best['dev_error']:.2f}%), "
                f"best of {meeting} of {n} trials meeting every constraint.")
    assert [s.value for s in at.success] == [expected]
    # a metric that is not an error rate keeps its own units
    at.selectbox(key=f"optimize_{STUDY}").select("latency_ms").run()
    assert not at.exception
    fastest = candidates[candidates["dev_error"] < worst]["latency_ms"].min()
    assert any(s.value.startswith("Chosen: trial ") and f"(latency ms {fastest:g})" in s.value
               for s in at.success), [s.value for s in at.success]


# --------------------------------------------------------------------- error analysis (13.11)
def test_error_page_says_when_only_part_of_the_sample_is_reviewed(app, small_project):
    session = _session(small_project)
    ids = session.sample_ids()
    session.tag(ids[0], "blurry")
    session.set_note(ids[1], "odd crop")
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    assert not at.exception
    n = len(ids)
    notice = [w.value for w in at.warning if "sampled errors have a tag or a note" in w.value]
    assert notice and f"Only **2 of the {n}**" in notice[0], [w.value for w in at.warning]
    assert f"other {n - 2}" in notice[0] and "lower bound" in notice[0]
    assert f"{n / 2:.1f}x" in notice[0]
    assert any(m.value == f"2 of {n}" for m in at.metric)
    # the command line says the same
    assert f"Only 2 of the {n} sampled errors have a tag or note" in str(session.summary())


def test_every_sampled_error_reviewed_shows_no_partial_notice(app, small_project):
    session = _session(small_project)
    for example_id in session.sample_ids():
        session.set_note(example_id, "seen")
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    assert not [w.value for w in at.warning if "have a tag or a note" in w.value]
    assert not [i.value for i in at.info if "have a tag or a note" in i.value]


def test_import_messages_name_the_users_file(app, small_project, tmp_path):
    session = _session(small_project)
    sheet = pd.read_csv(session.export(tmp_path / "tags.csv"), dtype=str, keep_default_na=False)
    sheet.loc[sheet.index[0], "blurry"] = "x"
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    at.file_uploader(key="tags_upload").set_value(
        ("my review.csv", sheet.to_csv(index=False).encode(), "text/csv")).run()
    at.button(key="tags_import").click().run()
    assert not at.exception and not errors(at), errors(at)
    message = " ".join(s.value for s in at.success)
    assert "Imported my review.csv" in message and "upload" not in message, message

    broken = sheet.copy()
    broken.loc[broken.index[0], "id"] = "no such example"
    at.file_uploader(key="tags_upload").set_value(
        ("bad review.csv", broken.to_csv(index=False).encode(), "text/csv")).run()
    at.button(key="tags_import").click().run()
    shown = " ".join(errors(at))
    assert "bad review.csv" in shown and "/tmp" not in shown and "upload.csv" not in shown, shown


def test_an_unreadable_workbook_is_refused_before_it_is_written(app, small_project, monkeypatch):
    import tempfile as tempfile_module

    session = _session(small_project)
    before = len(session.history())
    made: list[str] = []
    real = tempfile_module.TemporaryDirectory

    def spy(*args, **kwargs):
        made.append("dir")
        return real(*args, **kwargs)

    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    monkeypatch.setattr(tempfile_module, "TemporaryDirectory", spy)
    at.file_uploader(key="tags_upload").set_value(
        ("tags.xlsx", b"PK\x03\x04 not really a workbook", "application/octet-stream")).run()
    at.button(key="tags_import").click().run()
    assert not at.exception
    shown = " ".join(errors(at))
    assert "Nothing was imported" in shown and "tags.xlsx" in shown, shown
    assert made == [], "the sheet was written to disk before check_upload refused it"
    assert len(session.history()) == before


def test_downloads_do_not_rerun_the_page(app, small_project):
    """A download click that reruns the page drops the other button's deferred
    file (MediaFileStorageError in the browser test): both ignore the click."""
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Download XLSX", "Download CSV"]
    assert all(b.proto.ignore_rerun for b in buttons)


def test_slice_rules_are_shown_in_full(app, small_project):
    at = app.run()
    at.switch_page("app_pages/error_analysis.py").run()
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    slices = [s for s in specs if s.get("title") == "Error rate by slice"
              or "Error rate by slice" in json.dumps(s.get("title", ""))]
    assert slices, "the small project has slices"
    assert slices[0]["config"]["axis"]["labelLimit"] == 0
    table = next(d.value for d in at.dataframe if "rule" in d.value.columns)
    code = "\n".join(c.value for c in at.code)
    for rule in table["rule"]:
        assert rule in code
