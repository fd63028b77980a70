"""Learning curves and how much data is needed.

``learning_curve`` trains clones of an estimator on growing subsets of the
training set and records training and dev error. ``fit_power_law`` fits
``err(m) = a * m**(-b) + c`` (``scipy.optimize.curve_fit``, weighted, with
``a, b, c >= 0``); ``data_needed`` inverts it: ``m* = (a / (target - c))**(1/b)``.
The floor ``c`` is what more data cannot remove: if the target is at or below
its upper confidence bound, the answer is "not reachable by data alone" --
that is avoidable bias, to fix with a bigger model or longer training.

Examples
--------
>>> import numpy as np
>>> m = np.array([100, 200, 400, 800, 1600, 3200, 6400])
>>> fit = fit_power_law(m, 2.0 * m ** -0.5 + 0.05)
>>> round(fit.a, 3), round(fit.b, 3), round(fit.c, 3)
(2.0, 0.5, 0.05)
>>> round(fit.data_needed(0.06).examples, -2)
40000
>>> fit.data_needed(0.04).reachable
False
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from mlstrat.metrics import METRICS
from mlstrat.stats import z_value

__all__ = ["PowerLawFit", "DataNeeded", "LearningCurve", "early_stopping_epoch", "fit_power_law",
           "learning_curve"]


def _power_law(m, a, b, c):
    return a * np.power(m, -b) + c


@dataclass(frozen=True)
class DataNeeded:
    """Answer of ``data_needed``: how many training examples reach a target."""

    target: float
    examples: int | None
    reachable: bool
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class PowerLawFit:
    """``err(m) = a * m**(-b) + c`` with standard errors from the fit covariance."""

    a: float
    b: float
    c: float
    a_se: float
    b_se: float
    c_se: float
    confidence: float = 0.95
    n_points: int = 0

    @property
    def c_upper(self) -> float:
        """Upper confidence bound of the floor ``c``."""
        se = self.c_se if math.isfinite(self.c_se) else 0.0
        return self.c + z_value(self.confidence) * se

    def predict(self, m) -> np.ndarray:
        """Error forecast at training-set size(s) ``m``."""
        return _power_law(np.asarray(m, dtype=float), self.a, self.b, self.c)

    def data_needed(self, target_error: float) -> DataNeeded:
        """Training examples to reach ``target_error``, or why data alone cannot.

        Examples
        --------
        >>> PowerLawFit(a=1.0, b=0.5, c=0.0, a_se=0, b_se=0, c_se=0).data_needed(0.01).examples
        10000
        """
        t = float(target_error)
        if not (0 < t < 1):
            raise ValueError(f"The 'target_error' parameter must be in (0, 1). Got {target_error!r}.")
        floor = self.c_upper
        if t <= floor or self.b <= 0 or self.a <= 0:
            return DataNeeded(t, None, False, (
                f"Target {t:.2%} is not reachable by data alone: the fitted floor is "
                f"c = {self.c:.2%} (upper {self.confidence:.0%} bound {floor:.2%}). "
                "That is avoidable bias: try a bigger model or train longer."))
        m = (self.a / (t - self.c)) ** (1.0 / self.b)
        n = int(math.ceil(m - 1e-6))
        return DataNeeded(t, n, True, f"About {n:,} training examples to reach {t:.2%} "
                                      f"(fit a={self.a:.3g}, b={self.b:.3g}, c={self.c:.2%}).")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["c_upper"] = self.c_upper
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PowerLawFit:
        """Rebuild a fit saved with ``to_dict()`` (``None`` standard errors -> inf)."""
        kw = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for k in ("a_se", "b_se", "c_se"):
            kw[k] = math.inf if kw.get(k) is None else kw[k]
        return cls(**kw)


def _initial_guess(m: np.ndarray, e: np.ndarray) -> tuple[float, float, float]:
    c0 = max(float(e.min()) * 0.8, 0.0)
    b0 = 0.5
    a0 = max(float(e[0]) - c0, 1e-3)  # in units of m / m[0]
    return a0, b0, c0


def fit_power_law(sizes, errors, *, sigma=None, confidence: float = 0.95) -> PowerLawFit:
    """Fit ``err(m) = a * m**(-b) + c`` with ``a, b, c >= 0``.

    Parameters
    ----------
    sizes : array-like
        Training-set sizes (> 0), at least 3 distinct.
    errors : array-like
        Error at each size.
    sigma : array-like, optional
        Uncertainty of each error (its spread); points are weighted by
        ``1/sigma**2``. Default: unweighted.

    Returns
    -------
    PowerLawFit

    Examples
    --------
    >>> fit = fit_power_law([10, 100, 1000], [0.5, 0.2, 0.1])
    >>> bool(fit.predict(1000) < 0.11)
    True
    """
    m = np.asarray(sizes, dtype=float).ravel()
    e = np.asarray(errors, dtype=float).ravel()
    if m.shape != e.shape:
        raise ValueError(f"'sizes' and 'errors' must have the same length. Got {m.size} and {e.size}.")
    if np.unique(m).size < 3 or np.any(m <= 0) or not np.all(np.isfinite(e)):
        raise ValueError("fit_power_law needs at least 3 distinct sizes > 0 and finite errors. "
                         f"Got sizes {m.tolist()}.")
    order = np.argsort(m)
    m, e = m[order], e[order]
    s = None
    if sigma is not None:
        s = np.asarray(sigma, dtype=float).ravel()[order]
        if s.shape != m.shape:
            raise ValueError(f"'sigma' must have one value per size ({m.size}). Got {s.size}.")
        s = np.maximum(s, max(1e-6, float(np.median(s[s > 0])) * 0.1 if np.any(s > 0) else 1e-6))
    m0 = m[0]
    x = m / m0  # fit in units of the smallest size: a' = a * m0**(-b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        popt, pcov = curve_fit(_power_law, x, e, p0=_initial_guess(m, e), sigma=s,
                               absolute_sigma=s is not None, bounds=([0, 0, 0], [np.inf, 5, 1]),
                               maxfev=20000)
    a1, b, c = (float(v) for v in popt)
    se = np.sqrt(np.clip(np.diag(pcov), 0, None)) if np.all(np.isfinite(pcov)) \
        else np.full(3, np.inf)
    a = float(a1 * m0**b)
    a_se = float(se[0] * m0**b)  # ignores the (small) b-term of the delta method
    return PowerLawFit(a, b, c, a_se, float(se[1]), float(se[2]), confidence, int(m.size))


# =========================================================================== learning curve
@dataclass
class LearningCurve:
    """Training and dev error against training-set size, with a power-law fit."""

    sizes: list[int]
    train_error: list[float]
    dev_error: list[float]
    train_std: list[float]
    dev_std: list[float]
    repeats: list[int]
    metric: str
    n_dev: int
    fit: PowerLawFit | None = None
    forecast: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def data_needed(self, target_error: float) -> DataNeeded:
        """Training examples for a dev error of ``target_error`` (see ``PowerLawFit``)."""
        if self.fit is None:
            raise ValueError("No power-law fit (fewer than 3 sizes); give more sizes.")
        ans = self.fit.data_needed(target_error)
        if ans.reachable and ans.examples > 100 * max(self.sizes):
            return DataNeeded(ans.target, ans.examples, True, ans.message +
                              " (an extrapolation over 100x beyond the data: a rough guide)")
        return ans

    def __str__(self) -> str:
        lines = [f"Learning curve ({self.metric}, dev n={self.n_dev:,})",
                 f"  {'size':>10} {'train':>8} {'dev':>8} {'fit':>8}"]
        fitted = self.fit.predict(self.sizes) if self.fit else [None] * len(self.sizes)
        for m, tr, dv, f in zip(self.sizes, self.train_error, self.dev_error, fitted):
            fs = f"{f:8.2%}" if f is not None else f"{'':>8}"
            lines.append(f"  {m:>10,} {tr:8.2%} {dv:8.2%} {fs}")
        if self.fit:
            f = self.fit
            lines.append(f"  Fit: dev error = {f.a:.3g} * m^-{f.b:.3f} + {f.c:.2%} "
                         f"(floor c upper bound {f.c_upper:.2%})")
        if self.forecast:
            lines.append(f"  Forecast check: fit on sizes <= {self.forecast['fit_max_size']:,}, "
                         f"mean abs error {self.forecast['mean_abs_error']:.2%} on the larger sizes")
        lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "fit"}
        d["fit"] = self.fit.to_dict() if self.fit else None
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearningCurve:
        """Rebuild a learning curve saved with ``to_dict()``."""
        kw = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        kw["fit"] = PowerLawFit.from_dict(data["fit"]) if data.get("fit") else None
        return cls(**kw)

    def to_frame(self) -> pd.DataFrame:
        """One row per size: errors, spreads, repeats and the fitted dev error."""
        frame = pd.DataFrame({
            "size": self.sizes, "train_error": self.train_error, "train_std": self.train_std,
            "dev_error": self.dev_error, "dev_std": self.dev_std, "repeats": self.repeats,
        })
        frame["fitted"] = self.fit.predict(self.sizes) if self.fit else np.nan
        return frame

    def chart(self):
        """Train and dev error against size, with the fit (``charts.learning_curve_chart``)."""
        from mlstrat.charts import learning_curve_chart

        return learning_curve_chart(self.to_frame())


def _scorer(metric: str | Callable) -> tuple[str, Callable]:
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    if metric not in METRICS:
        raise ValueError(f"The 'metric' parameter must be one of {sorted(METRICS)} or a "
                         f"callable returning an error. Got {metric!r}.")
    fn, greater = METRICS[metric]
    if greater:
        return f"1 - {metric}", lambda y, p: 1.0 - fn(y, p)
    return metric, fn


def _default_sizes(n: int) -> np.ndarray:
    lo = min(max(20, n // 50), n)
    return np.unique(np.geomspace(lo, n, num=8).round().astype(int))


def _resolve_sizes(sizes, n: int) -> np.ndarray:
    if sizes is None:
        return _default_sizes(n)
    arr = np.asarray(sizes, dtype=float).ravel()
    if np.all((arr > 0) & (arr <= 1)) and np.any(arr < 1):
        arr = np.round(arr * n)
    arr = np.unique(arr.astype(int))
    if arr.size == 0 or arr[0] < 2 or arr[-1] > n:
        raise ValueError(f"'sizes' must be ints in [2, {n}] (the training-set size) or "
                         f"fractions in (0, 1]. Got {np.asarray(sizes).tolist()}.")
    return arr


def _subset(y: np.ndarray, m: int, rng: np.random.Generator, classify: bool) -> np.ndarray:
    """A random subset of ``m`` rows, stratified when classifying."""
    n = y.size
    if m >= n:
        return np.arange(n)
    if not classify:
        return np.sort(rng.choice(n, m, replace=False))
    from sklearn.model_selection import train_test_split

    try:
        idx, _ = train_test_split(np.arange(n), train_size=m, stratify=y,
                                  random_state=int(rng.integers(2**31 - 1)))
    except ValueError:  # a class too rare to stratify at this size
        idx = rng.choice(n, m, replace=False)
    return np.sort(idx)


def _repeats_for(m: int, n: int, repeats) -> int:
    if repeats != "auto":
        return int(repeats)
    return 3 if m <= n // 4 else 1


def _forecast_check(sizes, dev, sigma) -> dict[str, Any] | None:
    k = len(sizes)
    half = k // 2
    if half < 3 or k - half < 1:
        return None
    fit = fit_power_law(sizes[:half], dev[:half], sigma=None if sigma is None else sigma[:half])
    pred = fit.predict(sizes[half:])
    err = np.abs(pred - np.asarray(dev[half:]))
    return {"fit_max_size": int(sizes[half - 1]), "sizes": [int(s) for s in sizes[half:]],
            "predicted": pred.tolist(), "actual": [float(v) for v in dev[half:]],
            "mean_abs_error": float(err.mean()), "max_abs_error": float(err.max())}


def learning_curve(estimator, train: tuple, dev: tuple, sizes: Sequence[float] | None = None, *,
                   random_state: int | None = 0, metric: str | Callable = "error",
                   repeats: int | str = "auto", confidence: float = 0.95) -> LearningCurve:
    """Fit clones of ``estimator`` on growing subsets; fit a power law to dev error.

    Parameters
    ----------
    estimator : scikit-learn compatible estimator (unfitted; it is cloned)
    train, dev : tuple (X, y)
    sizes : sequence of int or of float in (0, 1], optional
        Training-set sizes (or fractions of the training set). Default: 8
        sizes spaced geometrically up to the full set.
    metric : str or callable, default='error'
        A name in ``metrics.METRICS`` (metrics where greater is better are
        turned into ``1 - metric``) or a function ``(y, y_pred) -> error``.
    repeats : int or 'auto', default='auto'
        Fits per size; 'auto' repeats 3 times up to a quarter of the data
        (cheap and noisy there), once above.

    Returns
    -------
    LearningCurve

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1200, 5)); y = (X @ np.ones(5) + rng.normal(size=1200) > 0).astype(int)
    >>> lc = learning_curve(LogisticRegression(), (X[:1000], y[:1000]), (X[1000:], y[1000:]),
    ...                     sizes=[20, 50, 100, 200, 500, 1000])
    >>> lc.sizes
    [20, 50, 100, 200, 500, 1000]
    >>> lc.fit is not None
    True
    """
    from sklearn.base import clone, is_classifier

    name, score = _scorer(metric)
    Xtr, ytr = train
    Xdv, ydv = dev
    ytr, ydv = np.asarray(ytr), np.asarray(ydv)
    n = ytr.size
    if len(Xtr) != n or len(Xdv) != ydv.size:
        raise ValueError(f"X and y lengths differ: train {len(Xtr)} vs {n}, dev {len(Xdv)} "
                         f"vs {ydv.size}.")
    if repeats != "auto" and (isinstance(repeats, bool) or not isinstance(repeats, int)
                              or repeats < 1):
        raise ValueError(f"The 'repeats' parameter must be an int >= 1 or 'auto'. Got {repeats!r}.")
    m_arr = _resolve_sizes(sizes, n)
    rng = np.random.default_rng(random_state)
    classify = is_classifier(estimator)
    rows = []
    for m in m_arr:
        tr_err, dv_err = [], []
        for _ in range(_repeats_for(int(m), n, repeats)):
            idx = _subset(ytr, int(m), rng, classify)
            Xs = Xtr.iloc[idx] if hasattr(Xtr, "iloc") else Xtr[idx]
            est = clone(estimator).fit(Xs, ytr[idx])
            tr_err.append(score(ytr[idx], est.predict(Xs)))
            dv_err.append(score(ydv, est.predict(Xdv)))
        rows.append((int(m), np.mean(tr_err), np.std(tr_err), np.mean(dv_err),
                     np.std(dv_err), len(dv_err)))
    ms, tr, trs, dv, dvs, reps = (list(col) for col in zip(*rows))
    # spread of each dev point: repeats' spread and the dev set's binomial noise
    dv_arr = np.asarray(dv, float)
    sigma = np.sqrt(np.asarray(dvs) ** 2 / np.asarray(reps)
                    + np.clip(dv_arr * (1 - dv_arr), 1e-4, None) / ydv.size)
    fit = forecast = None
    notes = []
    if len(ms) >= 3:
        fit = fit_power_law(ms, dv, sigma=sigma, confidence=confidence)
        forecast = _forecast_check(np.asarray(ms), dv, sigma)
    else:
        notes.append("Fewer than 3 sizes: no power-law fit.")
    return LearningCurve(ms, [float(v) for v in tr], [float(v) for v in dv],
                         [float(v) for v in trs], [float(v) for v in dvs], reps, name,
                         int(ydv.size), fit, forecast, notes)


def early_stopping_epoch(history: pd.DataFrame, monitor: str | None = None) -> int | None:
    """The epoch early stopping keeps: the lowest ``monitor`` (default: val_loss,
    else val_error). None if the history has no validation column.
    """
    cols = [monitor] if monitor else ["val_loss", "val_error"]
    for col in cols:
        if col in history.columns and history[col].notna().any():
            row = history.loc[history[col].idxmin()]
            return int(row["epoch"])
    return None
