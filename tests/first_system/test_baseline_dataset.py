"""One project per dataset: fingerprints stored with every run, other data refused
with nothing written, a project named after the file, runs of different data
never paired; no target preselected unless a column is named like one."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from mlstrat import open_project
from mlstrat.cli import main
from mlstrat.first_system import (
    DatasetMismatchError,
    ModelSpec,
    baseline,
    fingerprint,
    nearby_projects,
    new_project_folder,
    project_dataset,
    project_for,
    projects_of_data,
    read_table,
    same_dataset,
    suggest_target,
)
from tests.first_system.penguins import penguins

CHEAP = {"models": [ModelSpec("trivial"), ModelSpec("linear")], "max_epochs": 5,
         "resampling": "split", "n_review": 5}


@pytest.fixture(scope="module")
def penguins_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("penguins") / "penguins.csv"
    penguins().to_csv(path, index=False)
    return path


def _state(project):
    """What a refusal must leave untouched."""
    conn = project._db.read()
    return (project.revision(), project.runs()["id"].tolist(),
            conn.execute("SELECT COUNT(*) FROM run_predictions").fetchone()[0])


# ------------------------------------------------------------------ the fingerprint
def test_every_run_keeps_the_fingerprint_of_its_file(tmp_path, penguins_csv):
    r = baseline(penguins_csv, "species", project=tmp_path, **CHEAP)
    raw = penguins_csv.read_bytes()
    frame = pd.read_csv(penguins_csv)
    canonical = frame[sorted(frame.columns)].to_csv(index=False, lineterminator="\n")
    expected = {"name": "penguins.csv", "file_sha256": hashlib.sha256(raw).hexdigest(),
                "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
                "target": "species", "columns": sorted(frame.columns), "n_rows": len(frame)}
    assert r.dataset == expected
    project = open_project(tmp_path)
    assert [project.get_run(i).dataset for i in r.runs] == [expected] * len(r.runs)
    # the page reads the upload into a DataFrame: same data, same identity
    from_frame = fingerprint(read_table(penguins_csv), "species")
    assert from_frame["sha256"] == expected["sha256"] and from_frame["file_sha256"] is None


def test_a_changed_value_or_row_order_changes_the_hash():
    frame = penguins()
    base = fingerprint(frame, "species")["sha256"]
    edited = frame.copy()
    edited.loc[7, "body_mass_g"] += 10
    assert fingerprint(edited, "species")["sha256"] != base
    assert fingerprint(frame.iloc[::-1], "species")["sha256"] != base   # other dev rows
    assert fingerprint(frame[frame.columns[::-1]], "species")["sha256"] == base


# ------------------------------------------------------------------ refusals
def test_another_dataset_is_refused_and_nothing_is_written(tmp_path, penguins_csv):
    cancer = load_breast_cancer(as_frame=True).frame
    first = baseline(cancer, "target", project=tmp_path, **CHEAP)
    project = open_project(tmp_path)
    before = _state(project)
    with pytest.raises(DatasetMismatchError) as info:
        baseline(penguins_csv, "species", project=tmp_path, **CHEAP)
    message = str(info.value)
    assert f"runs {', '.join(map(str, first.runs))}" in message
    assert "target 'target' there, 'species' here" in message
    assert "Nothing was written" in message and "--project penguins_project" in message
    assert _state(open_project(tmp_path)) == before
    # same target name, other columns: still another dataset
    renamed = cancer.rename(columns={"mean radius": "radius"})
    with pytest.raises(DatasetMismatchError, match="missing here: 'mean radius'; new here: "
                                                   "'radius'"):
        baseline(renamed, "target", project=tmp_path, **CHEAP)
    assert _state(open_project(tmp_path)) == before


def test_a_dataframe_named_like_its_file_is_named_in_runs_and_messages(tmp_path,
                                                                       penguins_csv):
    """The dashboard passes the uploaded frame with the file's name: fingerprints,
    the report and a refusal name it as the command line does for the file."""
    frame = read_table(penguins_csv)
    r = baseline(frame, "species", project=tmp_path, name="penguins.csv", **CHEAP)
    from_file = fingerprint(frame, "species", path=penguins_csv)
    assert r.dataset == {**from_file, "file_sha256": None}
    assert r.data == "penguins.csv" and str(r).startswith(
        "mlstrat baseline, iteration 1: penguins.csv -> 'species'")
    assert open_project(tmp_path).get_run(r.runs[0]).config["baseline"]["data"] == \
        "penguins.csv"
    before = _state(open_project(tmp_path))
    with pytest.raises(DatasetMismatchError) as info:
        baseline(frame, "island", project=tmp_path, name="islands.xlsx", **CHEAP)
    advice = ("Build the baselines of islands.xlsx in a project of its own, e.g. "
              "--project islands_project.")
    assert info.value.advice == advice and str(info.value).endswith(" " + advice)
    assert "target 'species' there, 'island' here" in str(info.value)
    with pytest.raises(TypeError, match="'name' of the data must be a str or None. Got int"):
        baseline(frame, "species", project=tmp_path, name=3, **CHEAP)
    assert _state(open_project(tmp_path)) == before


def test_a_new_version_of_the_data_needs_allow_new_data_and_is_not_compared(tmp_path):
    cancer = load_breast_cancer(as_frame=True).frame
    first = baseline(cancer.iloc[:500], "target", project=tmp_path, **CHEAP)
    before = _state(open_project(tmp_path))
    with pytest.raises(DatasetMismatchError, match="allow_new_data=True"):
        baseline(cancer, "target", project=tmp_path, **CHEAP)
    assert _state(open_project(tmp_path)) == before
    r = baseline(cancer, "target", project=tmp_path, allow_new_data=True, **CHEAP)
    assert r.iteration == 2 and r.comparison is None
    assert any("another version of this data" in n for n in r.notes)
    assert any(f"Not compared with the previous iteration (run {first.best.run_id})" in n
               and "different versions of the data" in n for n in r.notes)
    again = baseline(cancer, "target", project=tmp_path, l2=0.1, allow_new_data=True, **CHEAP)
    assert again.comparison is not None and again.comparison.matched   # same version: paired


def test_runs_logged_before_fingerprints_are_judged_by_target_and_columns(tmp_path,
                                                                          penguins_csv):
    cancer = load_breast_cancer(as_frame=True).frame
    baseline(cancer, "target", project=tmp_path, **CHEAP)
    conn = sqlite3.connect(tmp_path / "mlstrat.db")        # as a version-2 store left them
    conn.execute("UPDATE runs SET dataset = NULL")
    conn.commit()
    conn.close()
    with pytest.raises(DatasetMismatchError, match="target 'target' there, 'species' here"):
        baseline(penguins_csv, "species", project=tmp_path, **CHEAP)
    r = baseline(cancer, "target", project=tmp_path, **CHEAP)
    assert any("predate data fingerprints" in n for n in r.notes)
    assert r.comparison is not None                        # unknown rows: matched by id


def test_the_command_refuses_another_dataset_in_one_line(tmp_path, penguins_csv, capsys):
    cancer = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(cancer, index=False)
    proj = str(tmp_path / "proj")
    fast = ["--max-epochs", "3", "--quiet", "--resampling", "split"]
    assert main(["baseline", str(cancer), "--target", "target", "--project", proj,
                 *fast]) == 0
    n_runs = len(open_project(proj).runs())
    capsys.readouterr()
    assert main(["baseline", str(penguins_csv), "--target", "species", "--project", proj,
                 *fast]) == 2
    err = capsys.readouterr().err
    assert "holds runs of another dataset" in err and "--project penguins_project" in err
    assert "Traceback" not in err
    assert len(open_project(proj).runs()) == n_runs


def test_the_command_still_requires_a_target(penguins_csv, capsys):
    with pytest.raises(SystemExit) as info:
        main(["baseline", str(penguins_csv)])
    assert info.value.code == 2
    assert "--target" in capsys.readouterr().err


# ------------------------------------------------------------------ comparing runs
def test_same_dataset_tells_data_and_dev_rows_apart(tmp_path, penguins_csv):
    a = baseline(penguins_csv, "species", project=tmp_path / "a", **CHEAP)
    b = baseline(penguins_csv, "species", project=tmp_path / "a", l2=0.1, **CHEAP)
    c = baseline(penguins_csv, "species", project=tmp_path / "a", random_state=3, **CHEAP)
    other = baseline(load_breast_cancer(as_frame=True).frame, "target",
                     project=tmp_path / "b", **CHEAP)
    pa, pb = open_project(tmp_path / "a"), open_project(tmp_path / "b")
    run = pa.get_run
    assert same_dataset(run(a.best.run_id), run(b.best.run_id))[0] is True
    same, why = same_dataset(run(a.best.run_id), run(c.best.run_id))
    assert same is False and "split_seed: 0 against 3" in why
    same, why = same_dataset(run(a.best.run_id), pb.get_run(other.best.run_id))
    assert same is False and "different datasets (target 'species' against 'target')" in why
    bare = pa.log_run("by hand", errors={"dev": 0.1})
    same, why = same_dataset(run(a.best.run_id), run(bare))
    assert same is None and f"run {bare} carries no data fingerprint" in why


def test_project_for_names_a_folder_after_the_file():
    assert project_for("penguins.csv") == "penguins_project"
    assert project_for("/data/Palmer Penguins (2020).XLSX") == "palmer_penguins_2020_project"
    assert project_for("DataFrame") == "dataframe_project"


# ------------------------------------------------------------------ finding the project of a file
def _crowd(parent, n_folders=260, n_projects=60):
    """As in /tmp: hundreds of folders sorted before the projects of interest, and
    projects of other data written after them (the newest)."""
    for i in range(n_folders):
        (parent / f"a_{i:03d}").mkdir()
    for i in range(n_projects):
        open_project(parent / f"a_{i:03d}").close()


def _as_uploaded(path, tmp_path):
    """What the dashboard does with an upload: its bytes in a temporary file, read
    into a DataFrame and passed on (no path, no file name)."""
    upload = tmp_path / "upload" / "upload.csv"
    upload.parent.mkdir(exist_ok=True)
    upload.write_bytes(path.read_bytes())
    return read_table(upload)


def test_the_project_named_after_the_file_is_found_among_many_folders(tmp_path, penguins_csv):
    """The dashboard once looked at the first 200 folders of the parent in name order:
    in /tmp, 'penguins_project' came after them and a new folder was offered."""
    parent = tmp_path / "tmp"
    parent.mkdir()
    built = baseline(penguins_csv, "species", project=parent / "penguins_project", **CHEAP)
    _crowd(parent)
    (parent / "penguins_2_project").mkdir()   # numbered, no store: not a project
    found = nearby_projects(parent / "wproj", "penguins.csv", limit=5)
    assert found[:2] == [parent / "wproj", parent / "penguins_project"]
    assert len(found) == 2 + 5                # the 5 most recently written others
    assert all(p.name.startswith("a_") for p in found[2:])
    data = fingerprint(_as_uploaded(penguins_csv, tmp_path), "species")
    assert projects_of_data(parent / "wproj", {**data, "name": "penguins.csv"}) == [
        (parent / "penguins_project", len(built.runs))]
    # the dashboard's next new folder is numbered after the existing ones
    assert new_project_folder(parent, "penguins.csv") == parent / "penguins_3_project"


def test_projects_made_by_the_command_and_by_the_page_find_each_other(tmp_path,
                                                                      penguins_csv):
    parent = tmp_path / "tmp"
    parent.mkdir()
    _crowd(parent, n_projects=3)
    by_command = parent / "penguins_project"
    assert main(["baseline", str(penguins_csv), "--target", "species", "--project",
                 str(by_command), "--max-epochs", "3", "--quiet", "--resampling",
                 "split"]) == 0
    by_page = parent / "penguins_2_project"
    page = baseline(_as_uploaded(penguins_csv, tmp_path), "species", project=by_page, **CHEAP)
    from_file = fingerprint(read_table(penguins_csv), "species", path=penguins_csv)
    from_upload = {**fingerprint(_as_uploaded(penguins_csv, tmp_path), "species"),
                   "name": "penguins.csv"}
    expected = [(by_command, len(open_project(by_command).runs())),
                (by_page, len(page.runs))]
    assert projects_of_data(parent / "wproj", from_file) == expected
    assert projects_of_data(parent / "wproj", from_upload) == expected
    # each accepts the runs of the other way: same data, nothing refused
    again = baseline(penguins_csv, "species", project=by_page, l2=0.1, **CHEAP)
    assert again.iteration == 2 and again.comparison is not None
    # another target, or other rows, is another dataset: not offered
    assert projects_of_data(parent / "wproj", {**from_file, "target": "island"}) == []
    edited = penguins().iloc[:-1]
    assert projects_of_data(parent / "wproj", fingerprint(edited, "species")) == []


def test_a_project_of_another_name_is_found_when_written_recently(tmp_path, penguins_csv):
    parent = tmp_path / "tmp"
    parent.mkdir()
    _crowd(parent, n_projects=10)
    baseline(penguins_csv, "species", project=parent / "experiments", **CHEAP)
    data = fingerprint(read_table(penguins_csv), "species", path=penguins_csv)
    assert projects_of_data(parent / "wproj", data, limit=3)[0][0] == parent / "experiments"
    assert project_dataset(parent / "a_000") == (0, None)
    assert project_dataset(parent / "a_259") == (-1, None)   # no store: nothing created
    assert not (parent / "a_259" / "mlstrat.db").exists()


# ------------------------------------------------------------------ no silent target
def test_penguins_get_no_target_preselected():
    column, why = suggest_target(penguins())
    assert column is None                     # not 'year', the last column
    assert "no column is named like a target" in why and "choose" in why


@pytest.mark.parametrize("name", ["target", "Label", "CLASS", "y", "Outcome", "ground truth"])
def test_a_column_named_like_a_target_is_preselected_with_the_reason(name):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40), name: rng.choice(["a", "b"], 40),
                          "year": rng.choice([2007, 2008], 40)})
    assert suggest_target(frame) == (name, f"named like a target ({name!r})")


def test_the_most_telling_name_wins_and_unlearnable_ones_are_skipped():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": rng.normal(size=50), "label": rng.choice([0, 1], 50)})
    assert suggest_target(frame)[0] == "label"
    single = pd.DataFrame({"x": rng.normal(size=30), "label": ["a"] * 30})
    column, why = suggest_target(single)
    assert column is None and "'label' is named like a target but holds a single value" in why
    names = pd.DataFrame({"is_fraud": rng.choice([0, 1], 30), "has_label": [1, 0] * 15})
    assert suggest_target(names)[0] is None   # names only, not patterns
