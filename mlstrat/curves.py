"""Learning curves and how much data is needed, with honest uncertainty.

``learning_curve`` trains clones of an estimator on growing subsets of the
training set and records training and dev error. ``fit_power_law`` fits
``err(m) = a * m**(-b) + c`` (weighted least squares with ``a, b, c >= 0``,
profiled over ``b``: a grid, then a continuous golden-section search) and
bootstraps it: each replicate resamples the dev examples behind every point
(when the per-example errors are known), or draws each point again from the
fitted curve with the point's noise (binomial from its dev size, normal from
its spread, or the fit's residuals), and is refitted by the same estimator.

``data_needed`` answers with an interval (percentile bootstrap, read at the
``(B + 1) * alpha / 2`` order statistics so that it holds its level with B
replicates):

- when the target lies inside the measured sizes, the answer is read off the
  measured points (the first size at or below the target, interpolated between
  neighbours along the power-law shape: ``log(err - c)`` linear in ``log m``),
  not extrapolated;
- otherwise the fit is extrapolated, replicate by replicate;
- "more data alone will not get there" only when the floor's *lower* bound is
  at or above the target.

The floor ``c`` is the error this model family keeps with unlimited data:
Bayes error plus this family's avoidable bias. It is *not* avoidable bias
(that is only the part beyond the human-level proxy).

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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.metrics import METRICS, accuracy, error_rate, mae, mse
from mlstrat.stats import z_value

__all__ = ["PowerLawFit", "DataNeeded", "LearningCurve", "early_stopping_epoch", "fit_power_law",
           "learning_curve", "FLOOR_MEANING"]

#: what the fitted floor ``c`` is (and is not): one wording for every face
FLOOR_MEANING = ("the error this model family keeps with unlimited data: Bayes error plus "
                 "this family's avoidable bias")
#: bootstrap replicates by default (a percentile interval's ends settle by ~200)
N_BOOT = 200
#: exponents ``b`` searched (published ones lie roughly in 0.07-0.35)
_B_GRID = np.concatenate([np.linspace(0.01, 1.0, 199), np.linspace(1.0, 5.0, 81)[1:]])
#: an extrapolation further than this factor beyond the largest size is flagged
_FAR = 10.0
#: golden-section ratio and steps refining ``b`` inside a grid cell
_GOLD = (math.sqrt(5.0) - 1.0) / 2.0
_GOLDEN_STEPS = 40


def _power_law(m, a, b, c):
    return a * np.power(m, -b) + c


# =========================================================================== fitting
def _ls_given_x(X: np.ndarray, E: np.ndarray, w: np.ndarray):
    """Weighted least squares of ``E ~ a*X + c`` with ``a >= 0``, ``0 <= c <= 1``.

    ``X`` broadcasts against ``E`` (last axis: the points); returns a, c, rss.
    """
    sw = w.sum()
    sx, sxx = (w * X).sum(-1), (w * X * X).sum(-1)
    se, sxe, see = (w * E).sum(-1), (w * X * E).sum(-1), (w * E * E).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        det = sw * sxx - sx * sx
        a = (sw * sxe - sx * se) / det
        c = (sxx * se - sx * sxe) / det
        a_c0 = np.maximum(sxe / sxx, 0.0)  # c pinned at 0
        a_c1 = np.maximum((sxe - sx) / sxx, 0.0)  # c pinned at 1
    bad = ~np.isfinite(a) | ~np.isfinite(c)
    a0 = (a < 0) | bad
    a = np.where(a0, 0.0, a)
    c = np.where(a0, np.clip(se / sw, 0.0, 1.0), c)
    a = np.where(~a0 & (c < 0), a_c0, a)
    c = np.where(~a0 & (c < 0), 0.0, c)
    a = np.where(~a0 & (c > 1), a_c1, a)
    c = np.where(~a0 & (c > 1), 1.0, c)
    rss = see - 2 * a * sxe - 2 * c * se + a * a * sxx + 2 * a * c * sx + c * c * sw
    return a, c, np.maximum(rss, 0.0)


def _rss_at(x: np.ndarray, E: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Residual sum of squares of each row of ``E`` at its own exponent ``b`` (R,)."""
    return _ls_given_x(np.power(x[None, :], -b[:, None]), E, w)[2]


def _golden_section(x: np.ndarray, E: np.ndarray, w: np.ndarray, lo: np.ndarray,
                    hi: np.ndarray) -> np.ndarray:
    """Exponent minimising each row's RSS inside its bracket ``[lo, hi]`` (all rows at once).

    Golden-section search: the bracket shrinks by 0.618 a step, so 40 steps take
    two grid cells (0.01 to 0.1 wide) below 1e-9; ``a`` and ``c`` stay profiled
    (exact given b).
    """
    c, d = hi - _GOLD * (hi - lo), lo + _GOLD * (hi - lo)
    fc, fd = _rss_at(x, E, w, c), _rss_at(x, E, w, d)
    for _ in range(_GOLDEN_STEPS):
        left = fc < fd  # the minimum lies in [lo, d]
        hi, lo = np.where(left, d, hi), np.where(left, lo, c)
        new = np.where(left, hi - _GOLD * (hi - lo), lo + _GOLD * (hi - lo))
        f_new = _rss_at(x, E, w, new)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new),
                        np.where(left, f_new, fd), np.where(left, fc, f_new))
    return np.where(fc < fd, c, d)


def _fit_many(x: np.ndarray, E: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fit every row of ``E`` (replicates x points) at once; returns (R, 3) of a1, b, c.

    ``x`` are sizes in units of the smallest (so ``a1 = a * m0**-b``). The
    exponent's best grid point is refined by a continuous golden-section search
    between its two neighbours, so the point fit and every bootstrap replicate
    are the same estimator, exact to ~1e-10 in ``b`` (a replicate snapped to the
    grid carries a rounding error of up to one grid step that the point fit
    does not, which distorts the bootstrap distribution).
    """
    X = np.power(x[None, :], -_B_GRID[:, None])  # (G, k)
    _, _, rss = _ls_given_x(X[:, None, :], E[None, :, :], w)  # (G, R)
    i = np.argmin(rss, axis=0)
    lo, hi = _B_GRID[np.maximum(i - 1, 0)], _B_GRID[np.minimum(i + 1, _B_GRID.size - 1)]
    b = _golden_section(x, E, w, lo, hi)
    b = np.where(_rss_at(x, E, w, b) <= rss[i, np.arange(E.shape[0])], b, _B_GRID[i])
    a1, c, _ = _ls_given_x(np.power(x[None, :], -b[:, None]), E, w)
    return np.column_stack([a1, b, c])


def _covariance_se(x, e, w, a1, b, c, absolute: bool) -> np.ndarray:
    """Standard errors of (a1, b, c) from the Jacobian at the optimum."""
    xb = np.power(x, -b)
    J = np.column_stack([xb, -a1 * np.log(x) * xb, np.ones_like(x)])
    resid = e - (a1 * xb + c)
    try:
        cov = np.linalg.inv(J.T @ (w[:, None] * J))
    except np.linalg.LinAlgError:
        return np.full(3, np.inf)
    if not absolute:
        dof = x.size - 3
        cov = cov * (float(np.sum(w * resid ** 2)) / dof if dof > 0 else np.inf)
    return np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(cov)) \
        else np.full(3, np.inf)


# =========================================================================== data needed
def _crossings(sizes: np.ndarray, E: np.ndarray, target: float,
               floor: float | np.ndarray = 0.0):
    """First measured size at or below ``target`` in each row of ``E``, interpolated
    between it and the size before; returns (sizes, found, at_first).

    Between the two neighbours ``log(err - floor)`` is taken linear in ``log m``
    (``floor``: each row's fitted ``c``, or 0), the shape of ``a * m**-b + c``
    itself. Plain log-log (floor 0) bends the wrong way when ``c > 0``: on
    ``2 * m**-0.5 + 0.05`` it puts the crossing that is at 1,131 (between 800 and
    1,600) at 1,147, a bias the bootstrap cannot see since every replicate shares it.
    """
    mask = E <= target
    found = mask.any(axis=1)
    i = np.argmax(mask, axis=1)
    j = np.maximum(i - 1, 0)
    r = np.arange(E.shape[0])
    lm = np.log(sizes)
    e0, e1 = E[r, j], E[r, i]
    f = np.broadcast_to(np.asarray(floor, dtype=float), e1.shape)
    f = np.where((f > 0) & (f < e1) & (f < target), f, 0.0)  # a floor above the point: log-log
    with np.errstate(divide="ignore", invalid="ignore"):
        le0, le1 = np.log(np.maximum(e0 - f, 1e-12)), np.log(np.maximum(e1 - f, 1e-12))
        frac = np.clip((np.log(target - f) - le0) / (le1 - le0), 0.0, 1.0)
    m = np.exp(lm[j] + np.nan_to_num(frac, nan=1.0) * (lm[i] - lm[j]))
    return np.where(found, m, np.nan), found, found & (i == 0)


def _inverse(params: np.ndarray, target: float) -> np.ndarray:
    """``m* = (a / (target - c))**(1/b)`` per row of (a, b, c); inf where unreachable."""
    a, b, c = params[:, 0], params[:, 1], params[:, 2]
    ok = (target > c) & (a > 0) & (b > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = np.exp(np.log(np.where(ok, a, 1.0) / np.where(ok, target - c, 1.0))
                   / np.where(ok, b, 1.0))
    return np.where(ok, m, np.inf)


def _percentile_ends(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval that tolerates ``inf``: the k-th smallest and k-th largest of B values.

    ``k = floor((B + 1) * alpha / 2)`` (Davison & Hinkley 1997, sec. 5.2): a new
    draw from the distribution the B values come from falls between their k-th
    smallest and k-th largest with probability exactly ``(B + 1 - 2k) / (B + 1)``,
    which is the confidence level (0.950 for B = 199 or 200 at 95%). Reading
    the ``alpha/2 * B`` quantile instead (6th and 195th of 200) holds 94.0%.
    """
    v = np.sort(np.asarray(values, dtype=float))
    k = min(max(int(math.floor((v.size + 1) * (1.0 - confidence) / 2)), 1), (v.size + 1) // 2)
    return float(v[k - 1]), float(v[v.size - k])


def _n(m: float) -> int:
    return int(math.ceil(m - 1e-6))


@dataclass(frozen=True)
class DataNeeded:
    """Answer of ``data_needed``: how many training examples reach a target.

    ``examples`` is the best guess (None when the fitted floor itself is at or
    above the target); ``low`` and ``high`` the percentile-bootstrap interval
    (``high`` None with ``unbounded`` True when the floor's interval reaches the
    target). ``reachable`` is False only when the floor's lower bound is at or
    above the target ("more data alone will not get there"). ``method`` says
    where the answer comes from: 'measured' (read off the measured points),
    'extrapolated' (the fit beyond the largest size), 'already reached',
    'floor' (not by data alone).
    """

    target: float
    examples: int | None
    reachable: bool
    message: str
    low: int | None = None
    high: int | None = None
    unbounded: bool = False
    method: str = "extrapolated"
    confidence: float = 0.95

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PowerLawFit:
    """``err(m) = a * m**(-b) + c`` with its bootstrap.

    ``a_se, b_se, c_se`` are the bootstrap standard deviations (from the fit's
    covariance when there is no bootstrap). ``sizes``/``errors`` are the points
    fitted; ``boot`` holds each replicate's refitted (a, b, c) and
    ``boot_errors`` its resampled points; ``resampling`` says how they were
    drawn ('examples', 'binomial', 'normal', 'residuals' or 'none').
    """

    a: float
    b: float
    c: float
    a_se: float
    b_se: float
    c_se: float
    confidence: float = 0.95
    n_points: int = 0
    sizes: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    boot: list[list[float]] = field(default_factory=list)
    boot_errors: list[list[float]] = field(default_factory=list)
    resampling: str = "none"

    # ------------------------------------------------------------------ floor
    def floor_interval(self) -> tuple[float, float]:
        """Percentile-bootstrap interval of the floor ``c`` (normal one without a bootstrap)."""
        if self.boot:
            return _percentile_ends(np.asarray(self.boot)[:, 2], self.confidence)
        se = self.c_se if math.isfinite(self.c_se) else math.inf
        half = z_value(self.confidence) * se
        return max(self.c - half, 0.0), self.c + half

    @property
    def c_lower(self) -> float:
        """Lower confidence bound of the floor ``c``."""
        return self.floor_interval()[0]

    @property
    def c_upper(self) -> float:
        """Upper confidence bound of the floor ``c``."""
        return self.floor_interval()[1]

    def describe_floor(self) -> str:
        """The floor with its interval and what it means, in one sentence."""
        lo, hi = self.floor_interval()
        return (f"Floor c = {self.c:.2%} ({self.confidence:.0%} interval {lo:.2%} to {hi:.2%}): "
                f"{FLOOR_MEANING}.")

    def predict(self, m) -> np.ndarray:
        """Error forecast at training-set size(s) ``m``."""
        return _power_law(np.asarray(m, dtype=float), self.a, self.b, self.c)

    def __str__(self) -> str:
        return (f"dev error = {self.a:.3g} * m^-{self.b:.3f} + {self.c:.2%} "
                f"({self.n_points} points). {self.describe_floor()}")

    # ------------------------------------------------------------------ data needed
    def data_needed(self, target_error: float) -> DataNeeded:
        """Training examples to reach ``target_error``, as an interval, or why data alone cannot.

        Read off the measured points when one of them is at or below the
        target; extrapolated from the fit otherwise. "More data alone will not
        get there" only when the floor's lower bound is at or above the target.

        Examples
        --------
        >>> PowerLawFit(a=1.0, b=0.5, c=0.0, a_se=0, b_se=0, c_se=0).data_needed(0.01).examples
        10000
        """
        t = float(target_error)
        if not (0 < t < 1):
            raise ValueError("The 'target_error' parameter must be in (0, 1). "
                             f"Got {target_error!r}.")
        sizes, errors = np.asarray(self.sizes, float), np.asarray(self.errors, float)
        if sizes.size:
            m, found, first = _crossings(sizes, errors[None, :], t, self.c)
            if first[0]:
                return self._already_reached(t, sizes, errors)
            if found[0]:
                return self._answer(t, float(m[0]), "measured")
        if self.c_lower >= t:
            return self._floor_answer(t)
        point = float(_inverse(np.array([[self.a, self.b, self.c]]), t)[0])
        return self._answer(t, point, "extrapolated")

    def _replicate_sizes(self, t: float) -> np.ndarray:
        """Each replicate's answer: its own measured crossing, else its fit's inverse."""
        params = np.asarray(self.boot, float)
        m = _inverse(params, t)
        if self.boot_errors:
            mm, found, _ = _crossings(np.asarray(self.sizes, float),
                                      np.asarray(self.boot_errors, float), t, params[:, 2])
            m = np.where(found, mm, m)
        return m

    def _answer(self, t: float, point: float, method: str) -> DataNeeded:
        conf = f"{self.confidence:.0%}"
        best = _n(point) if math.isfinite(point) else None
        top = max(self.sizes) if self.sizes else None
        where = ("read off the measured curve" if method == "measured"
                 else "extrapolated from the fit" + (f" beyond the largest measured size {top:,.0f}"
                                                     if top else ""))
        if not self.boot:
            if best is None:
                return self._floor_answer(t)
            return DataNeeded(t, best, True, f"About {best:,} training examples to reach {t:.2%}, "
                              f"{where} (no bootstrap stored: recompute the learning curve for an "
                              "interval).", method=method, confidence=self.confidence)
        lo, hi = _percentile_ends(self._replicate_sizes(t), self.confidence)
        low = _n(lo) if math.isfinite(lo) else None
        if not math.isfinite(hi):
            c_lo, c_hi = self.floor_interval()
            guess = f" (best guess {best:,})" if best is not None else ""
            start = f"At least {low:,}" if low is not None else "An unknown number of"
            return DataNeeded(t, best, True, (
                f"{start} training examples to reach {t:.2%}{guess}, {where}; the upper end of "
                f"the {conf} interval is unbounded: the floor's interval ({c_lo:.2%} to "
                f"{c_hi:.2%}) reaches the target, so more data alone may not get there."),
                low, None, True, method, self.confidence)
        high = _n(hi)
        if best is None:  # the fit levels off above t, yet the replicates reach it
            return DataNeeded(t, None, True, (
                f"The fitted curve levels off above {t:.2%}, but its {conf} interval reaches "
                f"it with {low:,} to {high:,} training examples, {where}."),
                low, high, False, method, self.confidence)
        msg = (f"About {best:,} training examples to reach {t:.2%} ({conf} interval {low:,} to "
               f"{high:,}), {where}.")
        if top and method == "extrapolated" and best > _FAR * top:
            msg += (f" That is {best / top:,.0f}x beyond the data: the curve's shape there is an "
                    "assumption, not a measurement.")
        return DataNeeded(t, best, True, msg, low, high, False, method, self.confidence)

    def _already_reached(self, t, sizes, errors) -> DataNeeded:
        m0 = int(sizes[0])
        return DataNeeded(t, m0, True, (
            f"Target {t:.2%} is reached already at the smallest measured size: dev error "
            f"{errors[0]:.2%} with {m0:,} training examples."), None, m0, False,
            "already reached", self.confidence)

    def _floor_answer(self, t: float) -> DataNeeded:
        c_lo, _ = self.floor_interval()
        return DataNeeded(t, None, False, (
            f"More data alone will not get there: the floor is at least {c_lo:.2%} (the lower "
            f"{self.confidence:.0%} bound; fitted c = {self.c:.2%}), at or above the target "
            f"{t:.2%}. The floor is {FLOOR_MEANING}. To go lower, change the model "
            "(a bigger one, better features, longer training) and compare the target with "
            "human-level error."), method="floor", confidence=self.confidence)

    # ------------------------------------------------------------------ records
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["c_lower"], d["c_upper"] = self.floor_interval()
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PowerLawFit:
        """Rebuild a fit saved with ``to_dict()`` (``None`` standard errors -> inf)."""
        kw = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for k in ("a_se", "b_se", "c_se"):
            kw[k] = math.inf if kw.get(k) is None else kw[k]
        return cls(**kw)


def _check_points(sizes, errors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.asarray(sizes, dtype=float).ravel()
    e = np.asarray(errors, dtype=float).ravel()
    if m.shape != e.shape:
        raise ValueError("'sizes' and 'errors' must have the same length. "
                         f"Got {m.size} and {e.size}.")
    if np.unique(m).size < 3 or np.any(m <= 0) or not np.all(np.isfinite(e)):
        raise ValueError("fit_power_law needs at least 3 distinct sizes > 0 and finite errors. "
                         f"Got sizes {m.tolist()}.")
    order = np.argsort(m, kind="stable")
    return m[order], e[order], order


def _per_point(values, order: np.ndarray, name: str) -> np.ndarray | None:
    if values is None:
        return None
    v = np.asarray(values, dtype=float).ravel()
    if v.size != order.size:
        raise ValueError(f"'{name}' must have one value per size ({order.size}). Got {v.size}.")
    return v[order]


def _weights(e: np.ndarray, sigma: np.ndarray | None, counts: np.ndarray | None) -> np.ndarray:
    """``1/sigma**2``, sigma floored at a tenth of its median (no point dominates)."""
    if sigma is None and counts is not None:
        sigma = np.sqrt(np.clip(e * (1 - e), 1e-4, None) / counts)
    if sigma is None:
        return np.ones_like(e)
    pos = sigma[sigma > 0]
    s = np.maximum(sigma, max(1e-6, float(np.median(pos)) * 0.1 if pos.size else 1e-6))
    return 1.0 / s ** 2


def _draw(e, fitted, sigma, counts, n_boot, rng) -> tuple[np.ndarray, np.ndarray, str]:
    """Resampled points (n_boot x k) when the examples themselves are not known.

    A parametric bootstrap draws from the fitted model: the replicates that are
    refitted are the fitted curve plus noise (binomial, normal or the fit's
    residuals). The same noise added to the measured points gives the
    replicates the measured crossings are read from (``boot_errors``). Drawing
    the refitted replicates around the measured points instead carries their
    residuals into every replicate; on a curved model such as ``a * m**-b + c``
    that skews the replicates' extrapolation (simulated shallow curve, 10,000 dev
    examples: a 95% interval 2x and 8x beyond the data covered 93.7% and 93.8%
    of the time; drawn from the fit, 95.4% and 95.3%).
    Returns (to refit, to read crossings from, how).
    """
    if counts is not None:
        n = np.maximum(np.round(counts).astype(int), 1)
        p = np.clip(fitted, 0, 1)
        noise, how = rng.binomial(n, p, size=(n_boot, e.size)) / n - p, "binomial"
    elif sigma is not None:
        noise, how = rng.normal(size=(n_boot, e.size)) * sigma, "normal"
    else:
        resid = (e - fitted) * math.sqrt(e.size / max(e.size - 3, 1))
        noise, how = rng.choice(resid, size=(n_boot, e.size)), "residuals"
    top = 1.0 if how == "binomial" else None
    return (np.clip(fitted + noise, 0, top) if how != "residuals" else fitted + noise,
            np.clip(e + noise, 0, top), how)


def fit_power_law(sizes, errors, *, sigma=None, counts=None, replicates=None,
                  n_boot: int = N_BOOT, confidence: float = 0.95,
                  random_state: int | None = 0) -> PowerLawFit:
    """Fit ``err(m) = a * m**(-b) + c`` with ``a, b, c >= 0`` and bootstrap it.

    Parameters
    ----------
    sizes : array-like
        Training-set sizes (> 0), at least 3 distinct.
    errors : array-like
        Error at each size.
    sigma : array-like, optional
        Uncertainty of each error (its spread); points are weighted by
        ``1/sigma**2``. Default: unweighted (binomial weights with ``counts``).
    counts : array-like, optional
        Dev examples behind each error: the bootstrap redraws each point as
        ``Binomial(count, fitted error) / count`` (parametric, from the fit).
    replicates : array-like (n_replicates, n_points), optional
        Points already resampled from the dev examples (``learning_curve``
        builds them); takes precedence over ``counts`` and ``sigma``.
        Without any of the three, the fit's residuals are resampled.
    n_boot : int, default=200
        Bootstrap replicates, each refitted (0: no bootstrap).
    confidence : float, default=0.95
        Level of the percentile intervals.

    Returns
    -------
    PowerLawFit

    Examples
    --------
    >>> fit = fit_power_law([10, 100, 1000], [0.5, 0.2, 0.1])
    >>> bool(fit.predict(1000) < 0.11)
    True
    >>> m = [100, 200, 400, 800, 1600]
    >>> fit = fit_power_law(m, [0.30, 0.24, 0.20, 0.18, 0.165], counts=[2000] * 5)
    >>> fit.resampling, len(fit.boot)
    ('binomial', 200)
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"The 'n_boot' parameter must be an int >= 0. Got {n_boot!r}.")
    z_value(confidence)  # validates it
    m, e, order = _check_points(sizes, errors)
    sigma, counts = _per_point(sigma, order, "sigma"), _per_point(counts, order, "counts")
    w = _weights(e, sigma, counts)
    x = m / m[0]  # fit in units of the smallest size: a1 = a * m0**(-b)
    a1, b, c = (float(v) for v in _fit_many(x, e[None, :], w)[0])
    se = _covariance_se(x, e, w, a1, b, c, absolute=sigma is not None or counts is not None)
    fit = PowerLawFit(float(a1 * m[0] ** b), b, c, float(se[0] * m[0] ** b), float(se[1]),
                      float(se[2]), confidence, int(m.size), m.tolist(), e.tolist())
    E, E_read, how = _replicates(replicates, order, e, a1 * x ** -b + c, sigma, counts,
                                 n_boot, random_state)
    if E is not None:
        _attach_bootstrap(fit, x, E, E_read, w, how)
    return fit


def _replicates(replicates, order, e, fitted, sigma, counts, n_boot, random_state):
    if replicates is not None:
        E = np.asarray(replicates, dtype=float)
        if E.ndim != 2 or E.shape[1] != e.size:
            raise ValueError(f"'replicates' must be a 2-D array with one column per size "
                             f"({e.size}). Got shape {E.shape}.")
        return E[:, order], E[:, order], "examples"
    if n_boot == 0 or (sigma is None and counts is None and e.size <= 3):
        return None, None, "none"
    return _draw(e, fitted, sigma, counts, n_boot, np.random.default_rng(random_state))


def _attach_bootstrap(fit: PowerLawFit, x: np.ndarray, E: np.ndarray, E_read: np.ndarray,
                      w: np.ndarray, how: str) -> None:
    p = _fit_many(x, E, w)
    m0 = fit.sizes[0]
    p[:, 0] = p[:, 0] * m0 ** p[:, 1]
    fit.boot = p.tolist()
    fit.boot_errors = np.round(E_read, 7).tolist()
    fit.resampling = how
    fit.a_se, fit.b_se, fit.c_se = (float(s) for s in p.std(axis=0, ddof=1))


# =========================================================================== learning curve
@dataclass
class LearningCurve:
    """Training and dev error against training-set size, with a power-law fit.

    ``dev_low``/``dev_high`` are each dev point's percentile-bootstrap interval
    (dev examples and repeats resampled); empty for curves built by hand.
    """

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
    dev_low: list[float] = field(default_factory=list)
    dev_high: list[float] = field(default_factory=list)

    def data_needed(self, target_error: float) -> DataNeeded:
        """Training examples for a dev error of ``target_error``.

        See ``PowerLawFit.data_needed``.
        """
        if self.fit is None:
            raise ValueError("No power-law fit (fewer than 3 sizes); give more sizes.")
        return self.fit.data_needed(target_error)

    def __str__(self) -> str:
        lines = [f"Learning curve ({self.metric}, dev n={self.n_dev:,})",
                 f"  {'size':>10} {'train':>8} {'dev':>8} {'fit':>8}"]
        fitted = self.fit.predict(self.sizes) if self.fit else [None] * len(self.sizes)
        for m, tr, dv, f in zip(self.sizes, self.train_error, self.dev_error, fitted, strict=True):
            fs = f"{f:8.2%}" if f is not None else f"{'':>8}"
            lines.append(f"  {m:>10,} {tr:8.2%} {dv:8.2%} {fs}")
        if self.fit:
            f = self.fit
            lines.append(f"  Fit: dev error = {f.a:.3g} * m^-{f.b:.3f} + {f.c:.2%}")
            lines.append(f"  {f.describe_floor()}")
        if self.forecast:
            lines.append(f"  Forecast check: fit on sizes <= {self.forecast['fit_max_size']:,}, "
                         f"mean abs error {self.forecast['mean_abs_error']:.2%} "
                         "on the larger sizes")
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
        """One row per size: errors, spreads, repeats, the dev interval and the fitted dev error."""
        frame = pd.DataFrame({
            "size": self.sizes, "train_error": self.train_error, "train_std": self.train_std,
            "dev_error": self.dev_error, "dev_std": self.dev_std, "repeats": self.repeats,
        })
        ok = len(self.dev_low) == len(self.sizes)
        frame["dev_low"] = self.dev_low if ok else np.nan
        frame["dev_high"] = self.dev_high if ok else np.nan
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
        def complement(y, p):
            return 1.0 - fn(y, p)

        # lets the bootstrap find per-example losses
        complement.__wrapped_metric__ = fn  # type: ignore[attr-defined]  # function attribute
        return f"1 - {metric}", complement
    return metric, fn


#: metrics that are a mean of per-example losses: resampled by one matrix product
_PER_EXAMPLE: dict[Callable, Callable] = {
    error_rate: lambda y, p: (y != p).astype(float),
    accuracy: lambda y, p: (y != p).astype(float),
    mse: lambda y, p: (np.asarray(y, float) - np.asarray(p, float)) ** 2,
    mae: lambda y, p: np.abs(np.asarray(y, float) - np.asarray(p, float)),
}


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
    """Fit on the smaller half of the sizes, predict the larger half."""
    k = len(sizes)
    half = k // 2
    if half < 3 or k - half < 1:
        return None
    fit = fit_power_law(sizes[:half], dev[:half], n_boot=0,
                        sigma=None if sigma is None else sigma[:half])
    pred = fit.predict(sizes[half:])
    err = np.abs(pred - np.asarray(dev[half:]))
    return {"fit_max_size": int(sizes[half - 1]), "sizes": [int(s) for s in sizes[half:]],
            "predicted": pred.tolist(), "actual": [float(v) for v in dev[half:]],
            "mean_abs_error": float(err.mean()), "max_abs_error": float(err.max())}


def _dev_replicates(score: Callable, ydv: np.ndarray, preds: list[list[np.ndarray]],
                    n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Dev error of every size in each replicate (n_boot x sizes): one shared resample
    of the dev examples per replicate, and the repeats at each size resampled too."""
    n = ydv.size
    per_example = _PER_EXAMPLE.get(getattr(score, "__wrapped_metric__", score))
    losses = ([[per_example(ydv, p) for p in fits] for fits in preds]
              if per_example is not None else None)
    out = np.empty((n_boot, len(preds)))
    for r in range(n_boot):
        idx = rng.integers(0, n, size=n)
        for s, fits in enumerate(preds):
            pick = rng.integers(0, len(fits), size=len(fits))
            if losses is not None:
                out[r, s] = np.mean([losses[s][j][idx].mean() for j in pick])
            else:
                out[r, s] = np.mean([score(ydv[idx], fits[j][idx]) for j in pick])
    return out


def learning_curve(estimator, train: tuple, dev: tuple, sizes: Sequence[float] | None = None, *,
                   random_state: int | None = 0, metric: str | Callable = "error",
                   repeats: int | str = "auto", confidence: float = 0.95,
                   n_boot: int = N_BOOT) -> LearningCurve:
    """Fit clones of ``estimator`` on growing subsets; fit and bootstrap a power law to dev error.

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
    n_boot : int, default=200
        Bootstrap replicates: each resamples the dev examples (shared by all
        sizes) and the repeats at each size, then refits the power law. A
        single fit per size cannot show the spread from the training subset
        drawn: more repeats make the intervals more honest.

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
    >>> lc.fit.resampling, len(lc.fit.boot)
    ('examples', 200)
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
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ValueError(f"The 'n_boot' parameter must be an int >= 0. Got {n_boot!r}.")
    m_arr = _resolve_sizes(sizes, n)
    rng = np.random.default_rng(random_state)
    classify = is_classifier(estimator)
    rows, preds = [], []
    for m in m_arr:
        tr_err, dv_err, dv_pred = [], [], []
        for _ in range(_repeats_for(int(m), n, repeats)):
            idx = _subset(ytr, int(m), rng, classify)
            Xs = Xtr.iloc[idx] if hasattr(Xtr, "iloc") else Xtr[idx]
            est = clone(estimator).fit(Xs, ytr[idx])
            tr_err.append(score(ytr[idx], est.predict(Xs)))
            dv_pred.append(np.asarray(est.predict(Xdv)))
            dv_err.append(score(ydv, dv_pred[-1]))
        preds.append(dv_pred)
        rows.append((int(m), np.mean(tr_err), np.std(tr_err), np.mean(dv_err),
                     np.std(dv_err), len(dv_err)))
    ms, tr, trs, dv, dvs, reps = (list(col) for col in zip(*rows, strict=True))
    # spread of each dev point: repeats' spread and the dev set's binomial noise
    dv_arr = np.asarray(dv, float)
    sigma = np.sqrt(np.asarray(dvs) ** 2 / np.asarray(reps)
                    + np.clip(dv_arr * (1 - dv_arr), 1e-4, None) / ydv.size)
    E = _dev_replicates(score, ydv, preds, n_boot, rng) if n_boot else None
    fit = forecast = None
    notes = []
    if len(ms) >= 3:
        fit = fit_power_law(ms, dv, sigma=sigma, replicates=E, n_boot=n_boot,
                            confidence=confidence, random_state=random_state)
        forecast = _forecast_check(np.asarray(ms), dv, sigma)
    else:
        notes.append("Fewer than 3 sizes: no power-law fit.")
    ends = [] if E is None else [_percentile_ends(E[:, j], confidence) for j in range(len(ms))]
    low, high = [e[0] for e in ends], [e[1] for e in ends]
    return LearningCurve(ms, [float(v) for v in tr], [float(v) for v in dv],
                         [float(v) for v in trs], [float(v) for v in dvs], reps, name,
                         int(ydv.size), fit, forecast, notes, low, high)


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
