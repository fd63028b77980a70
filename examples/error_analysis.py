"""Manual error analysis on digits seen through a low-quality camera.

The story of the course notes: a classifier trained on clean images meets dev
images from a worse camera (blurred, noisy or shifted), and some dev labels are
simply wrong. Which problem should the team work on first?

1. Train a classifier on clean scikit-learn digits; degrade the dev images.
2. Record the run with its dev predictions in a project store.
3. Start an error-analysis session: 100 sampled dev errors.
4. Tag them. Here the known degradations stand in for a person looking at each
   image; in real work you tag in the dashboard or in the exported spreadsheet.
5. Print the ceilings table and the "fix the labels?" decision.
6. Export the review sheet to XLSX (live formulas), then import it back.
7. Ask the assistants: slices where errors concentrate, candidate mislabels.

Run: ``python examples/error_analysis.py [--project DIR]`` (about 20 s).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import mlstrat

DEGRADATIONS = ("clean", "blurry", "noisy", "shifted")
CATEGORIES = ("incorrectly labelled", "blurry", "noisy", "shifted")


def degrade(images: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The low-quality camera: each dev image is clean, blurred, noisy or shifted."""
    kinds = rng.choice(DEGRADATIONS, size=len(images), p=[0.7, 0.1, 0.1, 0.1])
    out = images.copy()
    for i, kind in enumerate(kinds):
        if kind == "blurry":
            out[i] = ndimage.gaussian_filter(images[i], sigma=1.0)
        elif kind == "noisy":
            out[i] = images[i] + rng.normal(0, 4.0, images[i].shape)
        elif kind == "shifted":
            out[i] = ndimage.shift(images[i], rng.choice([-1, 1], size=2), order=0)
    return np.clip(out, 0, 16), kinds


def flip_labels(y: np.ndarray, rate: float, rng: np.random.Generator):
    """Some dev labels are wrong, as in every real dev set."""
    flipped = rng.random(len(y)) < rate
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 10, flipped.sum())) % 10
    return noisy, flipped


def make_classifier():
    """mlstrat's own trainer when it is installed, else scikit-learn's."""
    try:
        from mlstrat.nn import NeuralNetClassifier

        return NeuralNetClassifier((64,), max_epochs=60, l2=0.01, normalize=False,
                                   random_state=0)
    except ImportError:  # pragma: no cover - an install without mlstrat.nn
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier((64,), max_iter=300, random_state=0)


def image_features(images: np.ndarray) -> pd.DataFrame:
    """A few numbers per image a reviewer can slice by."""
    sharp = (np.abs(np.diff(images, axis=1)).mean(axis=(1, 2))
             + np.abs(np.diff(images, axis=2)).mean(axis=(1, 2))) / 2
    cols = np.arange(images.shape[2])
    centre_col = (images * cols).sum(axis=(1, 2)) / (images.sum(axis=(1, 2)) + 1e-9)
    speckle = np.abs(images - ndimage.median_filter(images, size=(1, 3, 3))).mean(axis=(1, 2))
    return pd.DataFrame({"brightness": images.mean(axis=(1, 2)), "sharpness": sharp,
                         "speckle": speckle, "centre_col": centre_col})


def edit_like_a_colleague(path: Path) -> None:
    """What a colleague does in Excel: a note on the first row, an 'x' in one cell."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook["errors"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("note") + 1, "=looks like a 7 to me")  # kept as text
    sheet.cell(3, header.index("noisy") + 1, "x")
    workbook.save(path)


def main(project_dir: str | None = None) -> None:
    rng = np.random.default_rng(0)
    digits = load_digits()
    ids = np.array([f"digit{i:04d}" for i in range(len(digits.target))])
    train, dev = train_test_split(np.arange(len(ids)), test_size=0.5, random_state=0,
                                  stratify=digits.target)

    # 1. clean training images; dev images from the low-quality camera, some mislabelled
    dev_images, kinds = degrade(digits.images[dev], rng)
    dev_labels, flipped = flip_labels(digits.target[dev], 0.03, rng)
    model = make_classifier().fit(digits.data[train] / 16, digits.target[train])
    proba = model.predict_proba(dev_images.reshape(len(dev), -1) / 16)
    classes = list(model.classes_)
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    train_error = float(np.mean(model.predict(digits.data[train] / 16) != digits.target[train]))

    # 2. the run, with its dev predictions and probabilities
    project = mlstrat.open_project(project_dir or tempfile.mkdtemp(prefix="mlstrat_errors_"))
    dev_frame = pd.DataFrame({"id": ids[dev], "y_true": dev_labels, "y_pred": pred})
    for j, cls in enumerate(classes):
        dev_frame[f"proba_{cls}"] = proba[:, j]
    run_id = project.log_run("digits, low-quality dev camera", errors={"train": train_error},
                             sizes={"train": len(train)}, predictions={"dev": dev_frame})
    print(f"Run {run_id}: train error {train_error:.1%}, dev error "
          f"{np.mean(pred != dev_labels):.1%} on {len(dev)} dev images "
          f"(project {project.folder})")

    # 3. a session: 100 sampled dev errors, image statistics as features
    features = image_features(dev_images).assign(id=ids[dev])
    session = mlstrat.new_session(project, run_id, name="low-quality camera", n=100,
                          features=features, payload=dev_images, categories=CATEGORIES,
                          by="example")

    # 4. tag each sampled error; the known degradation stands in for the reviewer's eye
    truth = pd.DataFrame({"kind": kinds, "flipped": flipped}, index=ids[dev])
    for example_id in session.sample_ids():
        kind, was_flipped = truth.loc[example_id, "kind"], truth.loc[example_id, "flipped"]
        if was_flipped:
            session.tag(example_id, "incorrectly labelled", by="reviewer")
        if kind != "clean":
            session.tag(example_id, kind, by="reviewer")
        if kind == "clean" and not was_flipped:
            session.set_note(example_id, "looks fine: a hard digit", by="reviewer")

    # 5. the ceilings table, the labels decision, the category to work on next
    summary = session.summary()
    print()
    print(summary)

    # 6. the spreadsheet round trip: XLSX with live formulas, edited, imported back
    sheet = session.export(Path(project.folder) / "review.xlsx")
    print()
    print(f"Exported {sheet}")
    edit_like_a_colleague(sheet)
    print(session.import_tags(sheet, by="colleague"))

    # 7. the assistants propose; a person decides
    print()
    print(session.slices())
    print()
    candidates = session.mislabel_candidates()
    print(candidates.format(top=8))
    really = truth.loc[candidates.candidates["id"], "flipped"]
    print(f"(Known here, never in real work: {int(really.sum())} of the "
          f"{len(really)} candidates are labels this script flipped.)")
    project.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", help="project folder (default: a new temporary folder)")
    main(parser.parse_args().project)
