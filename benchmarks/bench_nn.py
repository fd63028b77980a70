"""Benchmark of the mlstrat.nn trainer (a script that prints figures, not a test).

Reference workload: 50,000 x 100 float32 synthetic inputs, 10 classes, hidden
(256, 128) relu, Adam lr 1e-3, batch 200, 5 epochs.  Prints seconds/epoch of
mlstrat.nn, of scikit-learn's MLPClassifier with the same settings, and of the
GEMM floor (the 3 forward + 5 backward matrix products alone with the same
batch shapes), and their ratios.

Timings are CPU seconds of this process (``time.process_time``) with BLAS
limited to ``--threads`` threads (default 1): on a machine shared with other
jobs, wall-clock time mostly measures the neighbours.  Wall seconds are
printed too.

Usage::

    python benchmarks/bench_nn.py            # full workload + accuracy parity
    python benchmarks/bench_nn.py --quick    # small smoke version
    python benchmarks/bench_nn.py --memory   # also peak RSS on 1,000,000 x 100
    python benchmarks/bench_nn.py --threads 2  # BLAS threads (default 1)
"""

from __future__ import annotations

import argparse
import itertools
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

HIDDEN, N_CLASSES, BATCH, LR, ALPHA = (256, 128), 10, 200, 1e-3, 1e-4


def make_data(n, d=100, seed=0):
    """Synthetic float32 inputs with 10 classes from a random linear teacher."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    W = rng.standard_normal((d, N_CLASSES), dtype=np.float32)
    y = np.concatenate([np.argmax(X[i:i + 65536] @ W, axis=1)
                        for i in range(0, n, 65536)])
    return X, y


class Clock:
    """Measure CPU and wall seconds of a block."""

    def __enter__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall

    def per(self, epochs):
        """(cpu, wall) seconds per epoch."""
        return self.cpu / epochs, self.wall / epochs


def time_mlstrat(X, y, epochs):
    from mlstrat.nn import NeuralNetClassifier
    clf = NeuralNetClassifier(HIDDEN, learning_rate=LR, batch_size=BATCH, max_epochs=epochs,
                              l2=ALPHA, normalize=False, random_state=0)
    with Clock() as clock:
        clf.fit(X, y)
    return clock.per(epochs), clf


def time_sklearn(X, y, epochs):
    from sklearn.neural_network import MLPClassifier
    mlp = MLPClassifier(HIDDEN, learning_rate_init=LR, batch_size=BATCH, max_iter=epochs,
                        alpha=ALPHA, tol=0, n_iter_no_change=10**9, random_state=0)
    with Clock() as clock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, y)
    return clock.per(epochs)


def time_gemm_floor(n, d, epochs):
    """The 8 matrix products of one epoch alone (forward 3, backward 5).

    Same shapes and dtype as the trainer's products, written into preallocated
    ``out=`` arrays (as the trainer does), so no allocation is timed.
    """
    rng = np.random.default_rng(0)
    sizes = [d, *HIDDEN, N_CLASSES]
    W = [rng.standard_normal((a, b), dtype=np.float32) for a, b in itertools.pairwise(sizes)]
    X = rng.standard_normal((BATCH, d), dtype=np.float32)
    A = [np.empty((BATCH, k), dtype=np.float32) for k in sizes[1:]]   # A1, A2, A3
    D = [np.empty((BATCH, k), dtype=np.float32) for k in HIDDEN]       # D1, D2
    G = [np.empty_like(w) for w in W]                                  # dW1, dW2, dW3
    with Clock() as clock:
        for _ in range(epochs):
            for s in range(0, n, BATCH):
                m = min(BATCH, n - s)
                Xb, A1, A2, A3, D1, D2 = (a[:m] for a in (X, *A, *D))
                np.matmul(Xb, W[0], out=A1)           # forward
                np.matmul(A1, W[1], out=A2)
                np.matmul(A2, W[2], out=A3)
                np.matmul(A2.T, A3, out=G[2])         # backward: dW3, D2, dW2, D1, dW1
                np.matmul(A3, W[2].T, out=D2)
                np.matmul(A1.T, D2, out=G[1])
                np.matmul(D2, W[1].T, out=D1)
                np.matmul(Xb.T, D1, out=G[0])
    return clock.per(epochs)


def accuracy_parity(seeds=3, epochs=60):
    """Mean dev accuracy of mlstrat vs MLPClassifier on digits / breast cancer."""
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlstrat.nn import NeuralNetClassifier
    rows = []
    for load in (load_digits, load_breast_cancer):
        X, y = load(return_X_y=True)
        ours, theirs = [], []
        for seed in range(seeds):
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed,
                                                  stratify=y)
            ours.append(NeuralNetClassifier((64,), learning_rate=1e-3, batch_size=200,
                                            max_epochs=epochs, l2=ALPHA, random_state=seed)
                        .fit(Xtr, ytr).score(Xte, yte))
            mlp = make_pipeline(StandardScaler(), MLPClassifier(
                (64,), learning_rate_init=1e-3, batch_size=200, max_iter=epochs, alpha=ALPHA,
                tol=0, n_iter_no_change=10**9, random_state=seed))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs.append(mlp.fit(Xtr, ytr).score(Xte, yte))
        rows.append((load.__name__[5:], np.mean(ours), np.mean(theirs)))
    return rows


def memory_child(n):
    from mlstrat.nn import NeuralNetClassifier
    X, y = make_data(n)
    NeuralNetClassifier(HIDDEN, batch_size=BATCH, max_epochs=1, random_state=0).fit(X, y)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure_memory(n, threads):
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(n),
                          "--threads", str(threads)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke version")
    parser.add_argument("--memory", action="store_true", help="peak RSS on 1M x 100")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    with threadpool_limits(limits=args.threads):
        if args.memory_child:
            return memory_child(args.memory_child)
        n, epochs = (5_000, 2) if args.quick else (50_000, 5)
        X, y = make_data(n)
        time_mlstrat(X[:400], y[:400], 1)  # warm-up: imports and first-call costs
        time_sklearn(X[:400], y[:400], 1)
        print(f"workload: {n} x {X.shape[1]} float32, hidden {HIDDEN}, adam lr {LR}, "
              f"batch {BATCH}, {epochs} epochs, BLAS threads {args.threads}")
        ours, clf = time_mlstrat(X, y, epochs)
        theirs = time_sklearn(X, y, epochs)
        floor = time_gemm_floor(n, X.shape[1], epochs)
        print(f"{'':28s}{'cpu s/epoch':>12s}{'wall s/epoch':>14s}")
        for name, (cpu, wall) in (("mlstrat.nn", ours), ("sklearn MLPClassifier", theirs),
                                  ("GEMM floor (8 matmuls)", floor)):
            print(f"{name:28s}{cpu:12.3f}{wall:14.3f}")
        print(f"speed-up vs MLPClassifier: {theirs[0] / ours[0]:.2f}x cpu, "
              f"{theirs[1] / ours[1]:.2f}x wall (target >= 2x)")
        print(f"mlstrat / GEMM floor:      {ours[0] / floor[0]:.2f}x cpu, "
              f"{ours[1] / floor[1]:.2f}x wall (target <= 1.5x)")
        print(f"final train loss {clf.history_[-1]['loss']:.4f}, "
              f"train error {clf.history_[-1]['error']:.4f}")
        if not args.quick:
            print(f"{'dataset':16s}{'mlstrat':>10s}{'sklearn':>10s}  (mean dev acc, 3 seeds)")
            for name, a, b in accuracy_parity():
                print(f"{name:16s}{a:10.4f}{b:10.4f}")
    if args.memory:
        n_mem = 100_000 if args.quick else 1_000_000
        print(f"peak RSS training 1 epoch on {n_mem} x 100 float32: "
              f"{measure_memory(n_mem, args.threads):.0f} MB (target < 1024 MB; "
              f"X alone is {n_mem * 400 / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
