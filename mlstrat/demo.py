"""The demo project: the course's data-mismatch story on scikit-learn's digits.

The training distribution is clean scanned digits with a small share (10%)
of low-quality-camera shots; the dev and test sets, the distribution that
matters, hold only camera shots (blurred, shifted, washed out, noisy). A
train-dev set is carved from the training distribution, so the error ladder
can tell variance from data mismatch. Four runs tell the story:

1. ``logistic regression``: a linear model, the quick first system;
2. ``small NN (16)``: a small network;
3. ``NN (64), L2 + early stopping``: a bigger, regularised network; the
   primary problem is data mismatch, which no amount of capacity fixes;
4. ``NN (64) + synthesised camera data``: artificial data synthesis makes the
   training data look like dev/test, and the mismatch closes.

Each run is logged with errors, sizes, human-level error, per-epoch history,
its diagnosis and its dev predictions.

Command line::

    python -m mlstrat.demo --ensure [--project DIR]   # build if missing (idempotent)
    python -m mlstrat.demo --force  [--project DIR]   # rebuild

The project is built in a temporary sibling folder and renamed into place,
so an interrupted build never leaves half a project.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEMO_VERSION",
    "DemoData",
    "degrade",
    "synthesised",
    "load_demo_data",
    "demo_frame",
    "image_statistics",
    "build_demo_project",
    "ensure_demo_project",
    "is_demo_complete",
]

#: bump when the demo's contents change: ``--ensure`` then rebuilds it
DEMO_VERSION = 2
MARKER = "demo.json"


def _default_folder() -> Path:
    """demo_project/ at the repository root in a checkout; else ~/.mlstrat/demo_project
    (``$MLSTRAT_HOME/demo_project``) for an installed package."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "mlstrat").is_dir():
        return root / "demo_project"
    home = os.environ.get("MLSTRAT_HOME")
    return (Path(home) if home else Path.home() / ".mlstrat") / "demo_project"


DEFAULT_FOLDER = _default_folder()
#: human-level error on camera digits, the proxy for Bayes error
HUMAN_ERROR = 0.01
#: share of camera shots in the training distribution
CAMERA_SHARE = 0.10
#: originals per split (the digits data set has 1,797 images)
SPLIT_SIZES = {"train": 1000, "train_dev": 200, "dev": 300, "test": 297}
SPLITS = ("train", "train_dev", "dev", "test")


# --------------------------------------------------------------------------- data
def degrade(images: np.ndarray, random_state: int | np.random.Generator = 0) -> np.ndarray:
    """Make 8x8 digits in [0, 1] look like shots from a low-quality camera.

    Gaussian blur (sigma 0.3-0.7 px), a one-pixel horizontal shift for 30%
    of the shots, lower contrast with a grey veil, and sensor noise.

    Examples
    --------
    >>> import numpy as np
    >>> out = degrade(np.zeros((2, 8, 8)), random_state=0)
    >>> out.shape, bool(out.min() >= 0 and out.max() <= 1)
    ((2, 8, 8), True)
    """
    from scipy import ndimage

    rng = np.random.default_rng(random_state)
    images = np.asarray(images, dtype=float)
    sigmas = rng.uniform(0.3, 0.7, len(images))
    shifts = np.where(rng.random(len(images)) < 0.3, rng.choice([-1, 1], len(images)), 0)
    out = np.empty_like(images)
    for i, image in enumerate(images):
        out[i] = np.roll(ndimage.gaussian_filter(image, sigma=sigmas[i]), shifts[i], axis=1)
    out = 0.8 * out + 0.08 + rng.normal(0.0, 0.06, out.shape)
    return np.clip(out, 0.0, 1.0)


@dataclass
class DemoData:
    """The demo's splits: 8x8 images in [0, 1], labels, example ids and
    whether each example is a camera shot."""

    images: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    ids: dict[str, np.ndarray]
    camera: dict[str, np.ndarray]

    def X(self, split: str) -> np.ndarray:
        """Flattened pixels (n, 64) of a split."""
        return self.images[split].reshape(len(self.images[split]), -1)


def load_demo_data(random_state: int = 0) -> DemoData:
    """The four splits of the demo (deterministic for a given ``random_state``)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images / 16.0, digits.target
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(labels))
    data = DemoData({}, {}, {}, {})
    start = 0
    for split in SPLITS:
        idx = order[start:start + SPLIT_SIZES[split]]
        start += SPLIT_SIZES[split]
        imgs = images[idx].copy()
        if split in ("dev", "test"):
            camera = np.ones(len(idx), bool)
        else:
            camera = np.zeros(len(idx), bool)
            camera[rng.choice(len(idx), round(CAMERA_SHARE * len(idx)), replace=False)] = True
        imgs[camera] = degrade(imgs[camera], rng)
        data.images[split] = imgs
        data.y[split] = labels[idx]
        data.ids[split] = np.array([f"{split}-{i:04d}" for i in range(len(idx))])
        data.camera[split] = camera
    return data


def image_statistics(images: np.ndarray) -> pd.DataFrame:
    """Four numbers per 8x8 image that a camera changes: brightness, contrast,
    sharpness (mean absolute difference between neighbouring pixels) and ink
    (share of pixels above 0.5). Small, readable features for the distribution
    checks of the Splits page.

    Examples
    --------
    >>> import numpy as np
    >>> image_statistics(np.zeros((1, 8, 8))).iloc[0].tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    images = np.asarray(images, dtype=float)
    flat = images.reshape(len(images), -1)
    sharp = (np.abs(np.diff(images, axis=1)).mean(axis=(1, 2))
             + np.abs(np.diff(images, axis=2)).mean(axis=(1, 2))) / 2
    return pd.DataFrame({"brightness": flat.mean(axis=1), "contrast": flat.std(axis=1),
                         "sharpness": sharp, "ink": (flat > 0.5).mean(axis=1)})


def demo_frame(random_state: int = 0, *, pixels: bool = False) -> pd.DataFrame:
    """The demo data as one table: split, id, label, camera, then the image
    statistics (:func:`image_statistics`) or, with ``pixels=True``, px_0 .. px_63."""
    data = load_demo_data(random_state)
    parts = []
    for split in SPLITS:
        if pixels:
            frame = pd.DataFrame(data.X(split), columns=[f"px_{i}" for i in range(64)])
        else:
            frame = image_statistics(data.images[split])
        frame.insert(0, "camera", data.camera[split])
        frame.insert(0, "label", data.y[split])
        frame.insert(0, "id", data.ids[split])
        frame.insert(0, "split", split)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def synthesised(data: DemoData, split: str, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """A split plus a camera-style copy of its clean images (artificial data synthesis)."""
    clean = ~data.camera[split]
    extra = degrade(data.images[split][clean], random_state)
    X = np.vstack([data.X(split), extra.reshape(len(extra), -1)])
    return X, np.r_[data.y[split], data.y[split][clean]]


# --------------------------------------------------------------------------- runs
def _models() -> dict[str, tuple[Callable[[], Any], bool]]:
    """Run name -> (model factory, trained on synthesised camera data?)."""
    from mlstrat.nn import LogisticRegressionNN, NeuralNetClassifier

    return {
        "logistic regression": (lambda: LogisticRegressionNN(
            learning_rate=0.005, max_epochs=15, l2=5.0, random_state=0), False),
        "small NN (16)": (lambda: NeuralNetClassifier(
            (16,), learning_rate=0.01, max_epochs=40, random_state=0), False),
        "NN (64), L2 + early stopping": (lambda: NeuralNetClassifier(
            (64,), learning_rate=0.005, max_epochs=150, l2=0.5, early_stopping=True,
            patience=8, random_state=0), False),
        "NN (64) + synthesised camera data": (lambda: NeuralNetClassifier(
            (64,), learning_rate=0.005, max_epochs=150, l2=0.5, early_stopping=True,
            patience=8, random_state=0), True),
    }


def _train_and_log(project, name: str, factory, synthesise: bool, data: DemoData,
                   extra_config: dict[str, Any]) -> int:
    from mlstrat.tracking import record_run

    if synthesise:
        train, train_dev = synthesised(data, "train", 1), synthesised(data, "train_dev", 2)
    else:
        train = (data.X("train"), data.y["train"])
        train_dev = (data.X("train_dev"), data.y["train_dev"])
    model = factory().fit(*train, validation_data=train_dev)
    sets = {"train": train, "train_dev": train_dev,
            "dev": (data.X("dev"), data.y["dev"]), "test": (data.X("test"), data.y["test"])}
    config = dict(synthesised_camera_data=synthesise, best_epoch=int(model.best_epoch_),
                  n_epochs=int(model.n_epochs_), **extra_config)
    run = record_run(project, model, sets, name=name, human=HUMAN_ERROR,
                     ids={"dev": data.ids["dev"]}, config=config)
    return run.run_id


#: the run whose dev errors the error-analysis session reviews, and the
#: run that gets a learning curve
ANALYSED_RUN = "NN (64), L2 + early stopping"
STUDY = "NN size and regularisation"


def _learning_curve(data: DemoData) -> dict[str, Any]:
    """Dev error against training-set size for the analysed model, with the
    power-law fit: more data from the training distribution barely helps."""
    from mlstrat.curves import learning_curve
    from mlstrat.nn import NeuralNetClassifier

    model = NeuralNetClassifier((64,), learning_rate=0.005, max_epochs=40, l2=0.5,
                                random_state=0)
    curve = learning_curve(model, (data.X("train"), data.y["train"]),
                           (data.X("dev"), data.y["dev"]),
                           sizes=[60, 120, 250, 500, 1000], repeats=1)
    return curve.to_dict()


def _error_session(project, run_id: int, data: DemoData):
    """Review 100 of the analysed run's dev errors; the demo pre-tags them by
    rules on the image statistics (so the summary has something to show)."""
    from mlstrat.errors import new_session

    stats = image_statistics(data.images["dev"])
    features = stats.assign(id=data.ids["dev"])
    session = new_session(project, run_id, name="camera errors (pre-tagged by the demo)",
                          n=100, features=features, payload=data.images["dev"],
                          categories=("incorrectly labelled", "blurry", "low contrast"),
                          by="demo")
    by_id = stats.set_index(features["id"])
    blur_cut, contrast_cut = by_id["sharpness"].quantile(0.4), by_id["contrast"].quantile(0.3)
    for example_id in session.sample_ids()[:60]:
        if by_id.loc[example_id, "sharpness"] <= blur_cut:
            session.tag(example_id, "blurry", by="demo")
        if by_id.loc[example_id, "contrast"] <= contrast_cut:
            session.tag(example_id, "low contrast", by="demo")
    session.set_note(session.sample_ids()[0], "tags on the first 60 rows come from "
                     "rules on sharpness and contrast, not from a person", by="demo")
    return session.id


def _tuning_study(project, data: DemoData) -> str:
    """A small random search; trials record dev error and prediction latency."""
    from mlstrat.nn import NeuralNetClassifier
    from mlstrat.tuning import choice, create_study, loguniform

    study = create_study(STUDY, {"hidden_layer_sizes": choice([[16], [64], [128]]),
                                 "learning_rate": loguniform(1e-3, 3e-2),
                                 "l2": loguniform(1e-3, 3.0)},
                         project=project, strategy="random", seed=0)
    study.optimize(NeuralNetClassifier(max_epochs=25, random_state=0),
                   data.X("train"), data.y["train"], data.X("dev"), data.y["dev"],
                   n_trials=10)
    return STUDY


def build_demo_project(folder: str | Path, *, random_state: int = 0,
                       verbose: bool = False) -> dict[str, Any]:
    """Train the demo runs into a new project at ``folder`` (must not exist yet).

    Returns the summary also written to ``folder/demo.json``.
    """
    from threadpoolctl import threadpool_limits

    import mlstrat

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty; build into a new folder.")
    t0 = time.perf_counter()

    def say(what: str) -> None:
        if verbose:
            print(f"  {what} ({time.perf_counter() - t0:.1f} s)")

    data = load_demo_data(random_state)
    project = mlstrat.open_project(folder)
    runs: dict[str, int] = {}
    try:
        with threadpool_limits(limits=1):  # tiny matrices: threads only add overhead
            curve = _learning_curve(data)
            say("learning curve")
            for name, (factory, synthesise) in _models().items():
                extra = {"learning_curve": curve} if name == ANALYSED_RUN else {}
                runs[name] = _train_and_log(project, name, factory, synthesise, data, extra)
                say(f"run #{runs[name]} {name}")
            session = _error_session(project, runs[ANALYSED_RUN], data)
            say(f"error-analysis session #{session}")
            study = _tuning_study(project, data)
            say(f"tuning study '{study}'")
    finally:
        project.close()
    summary = {"version": DEMO_VERSION, "random_state": random_state, "runs": runs,
               "error_session": session, "study": study,
               "seconds": round(time.perf_counter() - t0, 1)}
    (folder / MARKER).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def is_demo_complete(folder: str | Path) -> bool:
    """True when ``folder`` holds a finished demo of the current version."""
    marker = Path(folder) / MARKER
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return info.get("version") == DEMO_VERSION and (Path(folder) / "mlstrat.db").exists()


def ensure_demo_project(folder: str | Path | None = None, *, force: bool = False,
                        verbose: bool = False) -> Path:
    """Build the demo project at ``folder`` unless a complete one is there.

    An older demo (another ``DEMO_VERSION``) is replaced; a folder that is
    not a demo project is never touched.
    """
    folder = Path(folder or DEFAULT_FOLDER).resolve()
    if not force and is_demo_complete(folder):
        return folder
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise FileExistsError(
            f"{folder} exists and is not an mlstrat demo project; choose another "
            "--project folder or remove it."
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=folder.parent))
    try:
        build_demo_project(tmp / "project", verbose=verbose)
        if folder.exists():
            old = tmp / "old"
            os.replace(folder, old)
        os.replace(tmp / "project", folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlstrat.demo", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", default=str(DEFAULT_FOLDER),
                        help="project folder (default: demo_project/ at the repo root, "
                             "or ~/.mlstrat/demo_project when installed)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ensure", action="store_true",
                       help="build only if missing or incomplete (the default)")
    group.add_argument("--force", action="store_true", help="rebuild even if complete")
    args = parser.parse_args(argv)
    folder = Path(args.project)
    if not args.force and is_demo_complete(folder):
        print(f"Demo project complete at {folder}.")
        return 0
    t0 = time.perf_counter()
    print(f"Building the demo project at {folder} ...")
    try:
        ensure_demo_project(folder, force=args.force, verbose=True)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Done in {time.perf_counter() - t0:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
