"""The demo project: the data-mismatch story, built once, idempotently, atomically."""

from __future__ import annotations

import json

import pytest

import mlstrat
from mlstrat import demo


def test_demo_tells_the_data_mismatch_story(demo_project):
    proj = mlstrat.open_project(demo_project)
    runs = proj.runs().set_index("name")
    assert list(runs.index) == list(demo._models())
    analysed = proj.get_run(demo.ANALYSED_RUN)
    synthesised = proj.get_run("NN (64) + synthesised camera data")
    assert analysed.diagnosis["primary"] == "data_mismatch"
    mismatch = {r.name: r.errors["dev"] - r.errors["train_dev"] for r in (analysed, synthesised)}
    assert mismatch[synthesised.name] < mismatch[analysed.name] / 2
    assert synthesised.errors["dev"] < analysed.errors["dev"]
    for run_id in runs["id"]:
        run = proj.get_run(int(run_id))
        assert set(run.errors) == {"train", "train_dev", "dev", "test"}
        assert run.human_error == demo.HUMAN_ERROR and run.diagnosis is not None
        assert not proj.run_history(run.id).empty
        assert len(proj.run_predictions(run.id, "dev")) == demo.SPLIT_SIZES["dev"]
    assert analysed.config["learning_curve"]["sizes"][-1] == demo.SPLIT_SIZES["train"]
    sessions = proj.error_sessions()
    assert sessions["run_id"].tolist() == [analysed.id]
    assert proj.trials(demo.STUDY)["state"].eq("complete").sum() == 10
    info = json.loads((demo_project / demo.MARKER).read_text())
    assert info["version"] == demo.DEMO_VERSION


def test_ensure_does_nothing_when_the_demo_is_complete(demo_project):
    store = demo_project / "mlstrat.db"
    before = store.stat().st_mtime_ns
    assert demo.main(["--ensure", "--project", str(demo_project)]) == 0
    assert store.stat().st_mtime_ns == before


def test_ensure_never_touches_a_folder_that_is_not_the_demo(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an mlstrat demo project"):
        demo.ensure_demo_project(folder)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_a_crash_during_the_build_leaves_no_half_project(tmp_path, monkeypatch):
    def crash(project, *args, **kwargs):
        raise RuntimeError("killed mid-build")

    monkeypatch.setattr(demo, "_learning_curve", lambda data: {})
    monkeypatch.setattr(demo, "_train_and_log", crash)
    folder = tmp_path / "demo_project"
    with pytest.raises(RuntimeError, match="killed mid-build"):
        demo.ensure_demo_project(folder)
    assert list(tmp_path.iterdir()) == []
