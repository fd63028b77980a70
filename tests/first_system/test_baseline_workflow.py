import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlstrat import open_project
from mlstrat.first_system import BaselineResult, ProgressEvent, baseline


def test_breast_cancer_csv_end_to_end(tmp_path, breast_cancer_csv, fast):
    project = open_project(tmp_path / "proj")
    r = baseline(breast_cancer_csv, "target", project=project, human_error=0.01,
                 resampling="split", **fast)
    assert isinstance(r, BaselineResult)
    assert r.resampling["method"] == "split"
    # the networks stop early on a tenth of train; the ladder's train is what they fit on
    assert r.early_stopping["rows"] == round(0.1 * (r.split_sizes["train"]
                                                    + r.early_stopping["rows"]))
    assert [m.kind for m in r.models] == ["trivial", "linear", "network", "network"]
    assert len(project.runs()) == 4 and r.runs == project.runs()["id"].tolist()
    assert sum(m.chosen for m in r.models) == 1
    top = min(m.score for m in r.models)                           # metric: error, lower wins
    tie = next(c for c in r.checks if c.kind == "ties")
    assert r.best.score == top or (tie.severity == "info" and r.best.name in tie.message)
    assert r.models[0].errors["dev"] == pytest.approx(             # trivial = majority class
        1 - max(np.mean(project.run_predictions(r.runs[0], "dev")["y_true"] == c)
                for c in (0, 1)))
    for m in r.models:
        run = project.get_run(m.run_id)
        assert set(run.errors) == {"train", "dev", "test"}        # one distribution: no train-dev
        assert run.dataset == r.dataset and run.dataset["target"] == "target"
        assert run.sizes == r.split_sizes
        assert run.human_error == 0.01
        assert run.diagnosis["primary"] == m.diagnosis.primary
        for split in ("dev",):
            preds = project.run_predictions(m.run_id, split)
            assert len(preds) == r.split_sizes[split]
            assert {"proba_0", "proba_1"} <= set(preds.columns)
        if m.kind != "trivial":
            assert len(project.run_history(m.run_id)) == m.epochs > 0
    # dev rows come from the right rows of the file: ids are row numbers
    frame = pd.read_csv(breast_cancer_csv)
    dev = project.run_predictions(r.best.run_id, "dev")
    assert (frame.loc[dev["id"].astype(int), "target"].to_numpy() == dev["y_true"]).all()
    assert r.diagnosis.rates["dev"] == r.best.errors["dev"]
    assert r.session is not None and r.session.record["run_id"] == r.best.run_id
    assert "mean radius" in r.session.features().columns
    text = str(r)
    assert r.diagnosis.headline in text  # whatever the decision layer concluded, said in words
    for part in ("Columns", "Error ladder per model", "Next:", "make dashboard",
                 "mlstrat dashboard --project",
                 f"--project {tmp_path / 'proj'}", "First iteration"):
        assert part in text
    # error rates in one unit: the ladder's rows are percentages, with no second
    # "dev error" column repeating the dev rung as a fraction
    ladder = text[text.index("Error ladder per model"):].split("\n\n")[0].splitlines()
    assert "dev error" not in ladder[1]
    best_row = next(x for x in ladder[2:] if x.startswith("*"))
    assert f"{100 * r.best.errors['dev']:.2f}%" in best_row and f"{r.best.score:.4g}" not in \
        best_row.split("%")[-1]
    d = r.to_dict()
    assert d["best_run"] == r.best.run_id and d["diagnosis"]["primary"] == r.diagnosis.primary
    assert set(r.timings) >= {"read", "splits", "preprocess", "evaluate", "session"}


@pytest.mark.parametrize("fixture, n_classes, resampling",
                         [("wine_csv", 3, "auto"), ("digits_csv", 10, "split")])
def test_multiclass_sets_with_macro_f1(request, tmp_path, fixture, n_classes, resampling,
                                       fast):
    r = baseline(request.getfixturevalue(fixture), "target", metric="f1",
                 project=tmp_path, resampling=resampling, **fast)
    assert len(r.classes) == n_classes
    assert r.best.score == max(m.score for m in r.models)   # f1: higher wins
    assert r.best.kind != "trivial"
    assert r.best.errors["dev"] < 0.5
    assert "best on dev f1, higher is better" in str(r)


def test_diabetes_regression(tmp_path, diabetes_csv, fast):
    r = baseline(diabetes_csv, "target", project=tmp_path, resampling="split", **fast)
    assert r.task == "regression" and r.metric == "mse" and r.classes is None
    assert r.session is None
    trivial = r.models[0]
    y = pd.read_csv(diabetes_csv)["target"]
    dev = open_project(tmp_path).run_predictions(trivial.run_id, "dev")
    assert np.allclose(dev["y_pred"], dev["y_pred"].iloc[0])          # predicts the mean
    assert trivial.metrics["dev"]["mse"] == pytest.approx(
        np.mean((dev["y_true"] - dev["y_pred"]) ** 2))
    assert r.best.metrics["dev"]["r2"] > 0.2 and r.best.kind != "trivial"
    assert y.var() > 1000  # the target is in its raw units, and the networks still learn
    # the ladder is in the target's units: RMSE, never capped, stored as such
    assert r.diagnosis.metric == "RMSE"
    assert r.best.errors["dev"] == pytest.approx(np.sqrt(r.best.metrics["dev"]["mse"]))
    assert r.diagnosis.rates["dev"] == pytest.approx(r.best.errors["dev"])
    assert open_project(tmp_path).get_run(r.best.run_id).metric == "RMSE"
    assert all(g.verdict in ("real", "noise", "too_small_to_tell") for g in r.diagnosis.gaps)
    r2 = baseline(diabetes_csv, "target", project=tmp_path, drop=["bmi", "s5"],
                  resampling="split", **fast)
    c = r2.comparison
    assert c is not None and c.matched
    assert c.test["test"] == "paired studentised bootstrap of the RMSE"
    a = open_project(tmp_path).run_predictions(c.run_a, "dev").set_index("id")
    b = open_project(tmp_path).run_predictions(c.run_b, "dev").set_index("id").loc[a.index]
    rmse = [float(np.sqrt(np.mean((f["y_true"] - f["y_pred"]) ** 2))) for f in (a, b)]
    assert c.test["change"] == pytest.approx(rmse[1] - rmse[0])
    assert c.test["low"] <= c.test["change"] <= c.test["high"]


def test_domain_mismatch_is_found_and_random_split_shows_none(tmp_path, make_mixed, fast):
    frame = make_mixed()
    r = baseline(frame, "label", domain="source=car", project=tmp_path / "a",
                 resampling="split", **fast)
    dev = open_project(tmp_path / "a").run_predictions(r.best.run_id, "dev")
    by_id = frame.set_index("customer_id")          # the id column names the examples
    assert (by_id.loc[dev["id"], "source"] == "car").all()
    train = open_project(tmp_path / "a").run_predictions(r.best.run_id, "train")
    assert (by_id.loc[train["id"], "source"] == "car").any()  # some car rows train
    assert r.diagnosis.gap("data_mismatch").verdict == "real"
    assert r.diagnosis.primary == "data_mismatch"
    assert "source" not in r.columns.features
    assert r.train_dev["carved"] and r.split_sizes["train_dev"] > 0
    random = baseline(frame, "label", project=tmp_path / "b", **fast)
    assert random.diagnosis.primary != "data_mismatch"
    assert "data_mismatch" not in {g.name for g in random.diagnosis.gaps}  # no train-dev ...
    assert random.diagnosis.gap("variance").label == "variance + data mismatch"
    assert not random.train_dev["carved"] and "train_dev" not in random.split_sizes
    assert "the gap the diagnosis calls 'variance + data mismatch' is variance" in str(random)
    asked = baseline(frame, "label", project=tmp_path / "c", train_dev=True, **fast)
    assert asked.train_dev["carved"]                              # ... unless asked for
    assert asked.diagnosis.gap("data_mismatch").verdict != "real"


def test_messy_table_overrides_and_session_slices(tmp_path, make_mixed, fast):
    frame = make_mixed(400, 200)
    r = baseline(frame, "label", project=tmp_path, roles={"age": "categorical"},
                 drop=["plan"], n_review=10, **fast)
    assert r.columns.column("age").role == "categorical"
    assert r.columns.column("plan").role == "drop"
    assert r.columns.column("empty").reason.startswith("entirely missing")
    assert "dropped by you" in str(r)
    feats = r.session.features()
    assert {"x1", "city", "signup"} <= set(feats.columns) and "plan" not in feats.columns
    assert len(r.session.sample_ids()) == 10
    assert r.session.payload(r.session.sample_ids()[0])  # the free text, for reviewers


@pytest.mark.parametrize("suffix", ["parquet", "xlsx"])
def test_parquet_and_xlsx_files(tmp_path, suffix, make_mixed, fast):
    frame = make_mixed(300, 0)
    path = tmp_path / f"data.{suffix}"
    getattr(frame, "to_parquet" if suffix == "parquet" else "to_excel")(path, index=False)
    r = baseline(path, "label", project=tmp_path / "p", **fast)
    assert r.data == str(path) and r.n_rows == 300
    assert r.columns.column("signup").role == "date"


def test_iteration_is_compared_with_mcnemar_on_the_same_dev_examples(tmp_path, breast_cancer_csv,
                                                                      fast):
    first = baseline(breast_cancer_csv, "target", project=tmp_path, resampling="split", **fast)
    second = baseline(breast_cancer_csv, "target", project=tmp_path, hidden="64,32",
                      l2=0.01, dropout=0.2, resampling="split", **fast)
    assert second.iteration == 2 and first.iteration == 1
    assert [m.name for m in second.models][2:] == ["network (64, 32) l2=0.01 dropout=0.2"]
    c = second.comparison
    assert second.previous_run == first.best.run_id
    assert (c.run_a, c.run_b) == (first.best.run_id, second.best.run_id)
    assert c.matched and c.n_matched == first.split_sizes["dev"]
    project = open_project(tmp_path)
    a = project.run_predictions(c.run_a, "dev").set_index("id")
    b = project.run_predictions(c.run_b, "dev").set_index("id").loc[a.index]
    right_a, right_b = a["y_true"] == a["y_pred"], b["y_true"] == b["y_pred"]
    n_b, n_c = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    assert (c.test["b"], c.test["c"]) == (n_b, n_c)
    expected = 1.0 if n_b + n_c == 0 else stats.binomtest(n_b, n_b + n_c, 0.5).pvalue
    assert c.test["pvalue"] == pytest.approx(expected)
    assert c.test["change"] == pytest.approx(second.best.errors["dev"] - first.best.errors["dev"])
    assert "variance" in {g["name"] for g in c.gaps}     # no train-dev: no mismatch gap
    for g in c.gaps:
        assert g["change"] == pytest.approx(g["b"] - g["a"])
    text = str(second)
    assert "Against the previous iteration" in text and "McNemar" in text


def test_next_iteration_keeps_the_resampling_so_the_runs_pair(tmp_path, breast_cancer_csv,
                                                              fast):
    # 'auto' picks K-fold for 569 rows; after a one-split iteration 1 it keeps one split
    # (the small-data rule would switch methods as the error falls, and iteration 2's
    # dev examples would then differ from iteration 1's: no paired comparison).
    first = baseline(breast_cancer_csv, "target", project=tmp_path, resampling="split", **fast)
    auto_alone = baseline(breast_cancer_csv, "target", project=tmp_path / "other", **fast)
    assert auto_alone.resampling["method"] == "kfold"
    second = baseline(breast_cancer_csv, "target", project=tmp_path, hidden="16", **fast)
    assert second.resampling["method"] == "split"
    assert "as iteration 1" in second.resampling["reason"]
    assert second.comparison.matched and second.comparison.n_matched == first.split_sizes["dev"]


def test_other_dev_examples_are_not_compared(tmp_path, breast_cancer_csv, fast):
    first = baseline(breast_cancer_csv, "target", project=tmp_path, **fast)
    r = baseline(breast_cancer_csv, "target", project=tmp_path, random_state=1, **fast)
    assert r.comparison is None and r.previous_run == first.best.run_id
    assert (f"Not compared with the previous iteration (run {first.best.run_id}): runs "
            f"{first.best.run_id} and {r.best.run_id} have different dev rows (split_seed: 0 "
            "against 1).") in r.notes


def test_progress_events(tmp_path, breast_cancer_csv, fast):
    events: list[ProgressEvent] = []
    baseline(breast_cancer_csv, "target", project=tmp_path, progress=events.append,
             resampling="split", **fast)
    stages = [e.stage for e in events if e.stage != "epoch"]
    assert stages[:3] == ["read", "splits", "preprocess"]
    assert stages.count("train") == 4 and stages[-1] == "done"
    assert any(e.stage == "epoch" for e in events)
    assert all(0 <= e.fraction <= 1 for e in events)
    assert [e.step for e in events] == sorted(e.step for e in events)


# ------------------------------------------------------------------- bad input
def _bad_cases(tmp_path, breast_cancer_csv):
    frame = pd.read_csv(breast_cancer_csv)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01 not a parquet file")
    return {
        "missing target": (dict(data=frame, target="targte"),
                           r"target column 'targte' is not in the data.*'target'"),
        "single class": (dict(data=frame.assign(target=1), target="target"),
                         r"'target' has a single class \(1"),
        "unparseable": (dict(data=garbage, target="target"), r"garbage\.parquet.*Parquet"),
        "all missing target": (dict(data=frame.assign(target=np.nan), target="target"),
                               "target column 'target' is entirely missing"),
        "domain value": (dict(data=frame.assign(src="a"), target="target", domain="src=b"),
                         r"domain value 'b' matches no row of column 'src'.*'a'"),
        "domain column": (dict(data=frame, target="target", domain="scr=b"),
                          r"--domain column 'scr' is not in the data"),
        "too few rows": (dict(data=frame.iloc[::30], target="target"), "Too few rows"),
        "bad human error": (dict(data=frame, target="target", human_error=5),
                            r"did you mean 0.05"),
        "bad metric": (dict(data=frame, target="target", metric="auc"),
                       r"Unknown metric 'auc'.*'f1'"),
        "bad n_review": (dict(data=frame, target="target", n_review=0), "'n_review'"),
        "bad resampling": (dict(data=frame, target="target", resampling="cv"),
                           r"'resampling' parameter must be one of \['auto', 'split', 'kfold'\]"),
    }


@pytest.mark.parametrize("case", ["missing target", "single class", "unparseable",
                                  "all missing target", "domain value", "domain column",
                                  "too few rows", "bad human error", "bad metric",
                                  "bad n_review", "bad resampling"])
def test_bad_input_is_refused_and_changes_nothing(tmp_path, breast_cancer_csv, case, fast):
    project = open_project(tmp_path / "proj")
    project.log_run("existing", errors={"train": 0.1, "dev": 0.2}, sizes={"train": 10, "dev": 10})
    kwargs, message = _bad_cases(tmp_path, breast_cancer_csv)[case]
    with pytest.raises(ValueError, match=message):
        baseline(project=project, **kwargs, **fast)
    assert len(project.runs()) == 1


def test_a_feature_column_entirely_missing_is_dropped_and_reported(tmp_path, wine_csv, fast):
    frame = pd.read_csv(wine_csv).assign(sensor=np.nan)
    r = baseline(frame, "target", project=tmp_path, **fast)
    assert r.columns.column("sensor").role == "drop"
    assert "sensor" in str(r) and "entirely missing" in str(r)


def test_groups_never_span_two_splits(tmp_path, make_mixed, fast):
    frame = make_mixed(500, 0).assign(speaker=lambda f: [f"s{i % 97}" for i in range(len(f))])
    r = baseline(frame, "label", group="speaker", project=tmp_path, resampling="split", **fast)
    project = open_project(tmp_path)
    by_id = frame.set_index("customer_id")["speaker"]
    seen = {}
    for split in ("train", "train_dev", "dev", "test"):
        ids = project.run_predictions(r.best.run_id, split)["id"]
        for speaker in set(by_id.loc[ids]):
            assert seen.setdefault(speaker, split) == split, speaker
    assert r.columns.column("speaker").role == "id" and "speaker" not in r.columns.features


def test_a_class_missing_from_training_does_not_break_early_stopping(tmp_path, wine_csv, fast):
    from mlstrat.splits import make_splits

    wine = pd.read_csv(wine_csv)
    for row in range(len(wine)):  # a class with one example, placed where it lands in dev
        frame = wine.copy()
        frame.loc[row, "target"] = 7
        if row in make_splits(len(frame), stratify=frame["target"].to_numpy())["dev"]:
            break
    r = baseline(frame, "target", project=tmp_path, resampling="split", **fast)
    assert r.classes == [0, 1, 2]
    assert any("1 dev rows have classes the training split lacks (7)" in n for n in r.notes)
    dev = open_project(tmp_path).run_predictions(r.best.run_id, "dev")
    assert (dev.loc[dev["y_true"] == 7, "y_pred"] != 7).all()


def test_no_finite_dev_metric_is_refused_with_the_values():
    """When every model's dev metric is NaN (training diverged), the choice
    says so instead of failing on ``int(None)``."""
    from types import SimpleNamespace

    from mlstrat.first_system._workflow import _choose

    def entry(label, value):
        return SimpleNamespace(model=SimpleNamespace(spec=SimpleNamespace(label=label)),
                               metrics={"dev": {"rmse": value}})

    assert _choose([entry("linear", 2.0), entry("NN (64)", 1.5)], "regression", "rmse") == 1
    with pytest.raises(ValueError, match=r"No model has a finite dev rmse: \{'linear': nan, "
                                         r"'NN \(64\)': inf\}\. Training diverged"):
        _choose([entry("linear", float("nan")), entry("NN (64)", float("inf"))],
                "regression", "rmse")
