"""The README's Python blocks run as written (in a fresh folder, one after another)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine

import mlstrat

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_blocks_run_and_store_what_they_say(in_tmp):
    blocks = _blocks()
    assert len(blocks) == 3
    ns: dict = {}
    exec(compile(blocks[0], "README block 1", "exec"), ns)       # the two-line example
    run = ns["run"]
    project = mlstrat.open_project(in_tmp / "my_project", create=False, readonly=True)
    assert run.run_id in project.runs()["id"].tolist()
    assert project.get_run(run.run_id).diagnosis["primary"] == run.diagnosis.primary

    # the top-level steps, on a data file of the user's (wine, target renamed 'label')
    load_wine(as_frame=True).frame.rename(columns={"target": "label"}).to_csv(
        in_tmp / "data.csv", index=False)
    exec(compile(blocks[1], "README block 2", "exec"), ns)
    first = ns["first"]
    assert first.target == "label" and len(first.runs) >= 3
    assert (in_tmp / "data_project" / "mlstrat.db").is_file()

    # any training loop: the names the block leaves to the user's script
    rng = np.random.default_rng(0)
    y_train, y_dev = rng.integers(0, 2, 50), rng.integers(0, 2, 30)
    ns.update(epochs=3, train_one_epoch=lambda: 0.5, evaluate=lambda: 0.6,
              X_train=np.zeros((50, 2)), X_dev=np.ones((30, 2)),
              y_train=y_train, y_dev=y_dev, dev_ids=[f"d{i}" for i in range(30)],
              predict=lambda X: (np.zeros(len(X), int) if X[0, 0] == 0
                                 else np.ones(len(X), int)))
    exec(compile(blocks[2], "README block 3", "exec"), ns)
    live = mlstrat.open_project(in_tmp / "my_project", create=False, readonly=True)
    runs = live.runs()
    row = runs[runs["name"] == "resnet lr=1e-3"].iloc[0]
    stored = live.get_run(int(row["id"]))
    assert len(live.run_history(stored.id)) == 3
    assert stored.errors["dev"] == pytest.approx(float(np.mean(y_dev != 1)))
    preds = live.run_predictions(stored.id, "dev")
    assert sorted(preds["id"].astype(str)) == sorted(ns["dev_ids"])
