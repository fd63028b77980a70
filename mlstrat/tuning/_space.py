"""Search spaces: each hyperparameter sampled on its own scale.

The course's point: sample at random rather than on a grid, and on the
scale where equal steps matter equally. A learning rate in [1e-4, 1] is
sampled uniformly in log10 (``loguniform``); a momentum ``beta`` in
[0.9, 0.999] is sampled so that ``log10(1 - beta)`` is uniform
(``one_minus_log``), because 0.999 -> 0.9995 changes the averaging window
from 1000 to 2000 steps while 0.9 -> 0.9005 changes almost nothing.

Examples
--------
>>> import numpy as np
>>> space = SearchSpace({"learning_rate": loguniform(1e-4, 1e-1),
...                      "momentum": one_minus_log(0.9, 0.999),
...                      "hidden_layer_sizes": choice([(64,), (128, 64)])})
>>> params = space.sample(np.random.default_rng(0))
>>> sorted(params)
['hidden_layer_sizes', 'learning_rate', 'momentum']
>>> 1e-4 <= params["learning_rate"] <= 1e-1 and 0.9 <= params["momentum"] <= 0.999
True
>>> SearchSpace.from_dict(space.to_dict()) == space
True
>>> len(space.grid(3))
18
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn.model_selection import ParameterGrid

__all__ = [
    "Distribution",
    "LogUniform",
    "Uniform",
    "IntUniform",
    "Choice",
    "OneMinusLog",
    "SearchSpace",
    "loguniform",
    "uniform",
    "intuniform",
    "randint",
    "choice",
    "one_minus_log",
    "beta_scale",
    "DISTRIBUTIONS",
]


class Distribution:
    """One hyperparameter's range and the scale it is sampled on.

    Subclasses define ``kind`` (its name in ``to_dict``), ``scale`` (how a
    chart's axis shows it) and the map to and from a unit coordinate
    (``_to_unit`` / ``_from_unit``), on which sampling, grids and shrinking
    for coarse-to-fine are all uniform.
    """

    kind = ""
    scale = "linear"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = float(low), float(high)
        self._check()

    # -- validation ------------------------------------------------------
    def _check(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"The bounds of {self.kind} must be finite. Got "
                             f"[{self.low!r}, {self.high!r}].")
        if not self.low < self.high:
            raise ValueError(
                f"The range of {self.kind} is empty or inverted: low={self.low!r}, "
                f"high={self.high!r}. Give low < high, e.g. {self.kind}(1e-4, 1e-1)."
            )

    # -- the unit coordinate ---------------------------------------------
    def _to_unit(self, value: Any) -> float:
        return (float(value) - self.low) / (self.high - self.low)

    def _from_unit(self, u: float) -> Any:
        return self.low + float(u) * (self.high - self.low)

    # -- public ----------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn on this distribution's scale."""
        return self._from_unit(rng.uniform())

    def grid(self, n: int) -> list[Any]:
        """``n`` values evenly spaced on this distribution's scale."""
        if n < 1:
            raise ValueError(f"A grid needs n >= 1 values per dimension. Got {n!r}.")
        units = [0.5] if n == 1 else np.linspace(0.0, 1.0, n)
        return _unique([self._from_unit(u) for u in units])

    def shrink(self, values: Sequence[Any], margin: float = 0.25) -> Distribution:
        """The sub-range spanning ``values`` widened by ``margin`` of the full
        range on each side, on this distribution's own scale (coarse to fine)."""
        units = [min(max(self._to_unit(v), 0.0), 1.0) for v in values]
        lo, hi = max(min(units) - margin, 0.0), min(max(units) + margin, 1.0)
        if hi - lo < 1e-9:
            return self
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.low, new.high = self._bounds_from_units(lo, hi)
        return new

    def _bounds_from_units(self, lo: float, hi: float) -> tuple[float, float]:
        return float(self._from_unit(lo)), float(self._from_unit(hi))

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: [self.low, self.high]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Distribution) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{self.kind}({self.low!r}, {self.high!r})"


class Uniform(Distribution):
    """Uniform on ``[low, high]`` (dropout rate, ``l2`` on a linear scale)."""

    kind = "uniform"

    def sample(self, rng: np.random.Generator) -> float:
        return float(_frozen(stats.uniform, self.low, self.high - self.low).rvs(random_state=rng))


class LogUniform(Distribution):
    """``log10(x)`` uniform on ``[log10(low), log10(high)]`` (learning rate,
    ``l2``); both bounds must be > 0. Sampled with ``scipy.stats.loguniform``."""

    kind = "loguniform"
    scale = "log"

    def _check(self) -> None:
        if self.low <= 0 or self.high <= 0:
            raise ValueError(
                f"A log scale needs bounds > 0. Got loguniform({self.low!r}, {self.high!r}); "
                "use uniform(...) for a range that includes 0."
            )
        super()._check()

    def _to_unit(self, value: Any) -> float:
        lo, hi = math.log10(self.low), math.log10(self.high)
        return (math.log10(max(float(value), 1e-300)) - lo) / (hi - lo)

    def _from_unit(self, u: float) -> float:
        lo, hi = math.log10(self.low), math.log10(self.high)
        return min(max(10.0 ** (lo + float(u) * (hi - lo)), self.low), self.high)

    def sample(self, rng: np.random.Generator) -> float:
        return float(_frozen(stats.loguniform, self.low, self.high).rvs(random_state=rng))


class OneMinusLog(Distribution):
    """The 1 - beta scale: ``r`` uniform in ``[log10(1-high), log10(1-low)]``,
    ``beta = 1 - 10**r``. For momentum and Adam's beta1/beta2 in e.g.
    [0.9, 0.999]; bounds must lie in [0, 1)."""

    kind = "beta"
    scale = "one_minus_log"

    def _check(self) -> None:
        for bound in (self.low, self.high):
            if not 0.0 <= bound < 1.0:
                raise ValueError(
                    f"A beta (1 - beta log scale) bound must be in [0, 1). Got "
                    f"one_minus_log({self.low!r}, {self.high!r}); e.g. one_minus_log(0.9, 0.999)."
                )
        super()._check()

    def _to_unit(self, value: Any) -> float:
        lo, hi = math.log10(1 - self.low), math.log10(1 - self.high)
        return (math.log10(max(1 - float(value), 1e-300)) - lo) / (hi - lo)

    def _from_unit(self, u: float) -> float:
        lo, hi = math.log10(1 - self.low), math.log10(1 - self.high)
        return min(max(1.0 - 10.0 ** (lo + float(u) * (hi - lo)), self.low), self.high)


class IntUniform(Distribution):
    """Integers ``low..high`` inclusive, uniform (number of units, of layers)."""

    kind = "intuniform"
    low: int
    high: int

    def __init__(self, low: int, high: int) -> None:
        for name, bound in (("low", low), ("high", high)):
            if float(bound) != int(bound):
                raise ValueError(f"intuniform's {name} must be an integer. Got {bound!r}.")
        super().__init__(int(low), int(high))
        self.low, self.high = int(low), int(high)

    def _to_unit(self, value: Any) -> float:
        return (float(value) - self.low + 0.5) / (self.high - self.low + 1)

    def _from_unit(self, u: float) -> int:
        width = self.high - self.low + 1
        return int(min(self.low + math.floor(float(u) * width), self.high))

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def grid(self, n: int) -> list[int]:
        if n < 1:
            raise ValueError(f"A grid needs n >= 1 values per dimension. Got {n!r}.")
        return _unique(int(round(v)) for v in np.linspace(self.low, self.high, n))

    def _bounds_from_units(self, lo: float, hi: float) -> tuple[int, int]:
        a, b = self._from_unit(lo), self._from_unit(min(hi, 1 - 1e-12))
        return int(a), int(max(b, a))

    def _check(self) -> None:
        if not self.low <= self.high:
            raise ValueError(
                f"The range of intuniform is inverted: low={self.low!r}, high={self.high!r}. "
                "Give low <= high."
            )


class Choice(Distribution):
    """One of a list of values (activation, layer sizes, optimizer)."""

    kind = "choice"
    scale = "categorical"

    def __init__(self, values: Sequence[Any]) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"choice needs a list of values. Got {values!r}.")
        if len(values) == 0:
            raise ValueError("choice needs at least one value. Got an empty list.")
        self.values = [_freeze(v) for v in values]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, n: int) -> list[Any]:
        return list(self.values)

    def shrink(self, values: Sequence[Any], margin: float = 0.25) -> Choice:
        kept = [v for v in self.values if _freeze(v) in [_freeze(w) for w in values]]
        return Choice(kept) if kept else self

    def to_dict(self) -> dict[str, Any]:
        return {"choice": [_thaw(v) for v in self.values]}

    def __repr__(self) -> str:
        return f"choice({self.values!r})"


@functools.lru_cache(maxsize=256)
def _frozen(family: Any, a: float, b: float) -> Any:
    """A frozen scipy distribution, built once (building one costs ~1 ms)."""
    return family(a, b)


def _freeze(value: Any) -> Any:
    """Lists (from JSON or TOML) become tuples, so values compare and hash."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


def _unique(values) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def loguniform(low: float, high: float) -> LogUniform:
    """log10 uniform on ``[low, high]``, both > 0 (learning rate, ``l2``)."""
    return LogUniform(low, high)


def uniform(low: float, high: float) -> Uniform:
    """Uniform on ``[low, high]`` (dropout)."""
    return Uniform(low, high)


def intuniform(low: int, high: int) -> IntUniform:
    """Integers ``low..high`` inclusive (number of units)."""
    return IntUniform(low, high)


randint = intuniform


def choice(values: Sequence[Any]) -> Choice:
    """One of ``values`` (activation, layer sizes)."""
    return Choice(values)


def one_minus_log(low: float, high: float) -> OneMinusLog:
    """``log10(1 - beta)`` uniform: for momentum/beta in e.g. [0.9, 0.999]."""
    return OneMinusLog(low, high)


beta_scale = one_minus_log

#: name in a config or ``to_dict`` -> constructor. Validation lists these names.
DISTRIBUTIONS: dict[str, Any] = {
    "loguniform": LogUniform,
    "log": LogUniform,
    "uniform": Uniform,
    "intuniform": IntUniform,
    "randint": IntUniform,
    "int": IntUniform,
    "choice": Choice,
    "beta": OneMinusLog,
    "one_minus_log": OneMinusLog,
}


def _parse_one(name: str, spec: Any) -> Distribution:
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, Mapping) and len(spec) == 1:
        kind, args = next(iter(spec.items()))
        if kind not in DISTRIBUTIONS:
            raise ValueError(
                f"Unknown distribution {kind!r} for hyperparameter {name!r}. "
                f"Valid names: {sorted(DISTRIBUTIONS)}."
            )
        if kind == "choice":
            return Choice(args)
        if not isinstance(args, (list, tuple)) or len(args) != 2:
            raise ValueError(
                f"Hyperparameter {name!r}: {kind} needs [low, high]. Got {args!r}."
            )
        return DISTRIBUTIONS[kind](*args)
    if isinstance(spec, (list, tuple)):
        return Choice(spec)
    raise ValueError(
        f"Hyperparameter {name!r}: expected a distribution such as "
        "{loguniform = [1e-4, 1e-1]}, {beta = [0.9, 0.999]} or {choice = [...]}. "
        f"Got {spec!r}."
    )


class SearchSpace(Mapping):
    """Hyperparameter name -> :class:`Distribution`.

    Parameters
    ----------
    dimensions : dict
        Name -> a distribution, or its ``to_dict`` form
        (``{"loguniform": [1e-4, 1e-1]}``), or a list (a choice).
    """

    dimensions: dict[str, Distribution]

    def __init__(self, dimensions: Mapping[str, Any]) -> None:
        if isinstance(dimensions, SearchSpace):
            dimensions = dimensions.dimensions
        if not dimensions:
            raise ValueError("A search space needs at least one hyperparameter. Got none.")
        self.dimensions = {str(k): _parse_one(str(k), v) for k, v in dimensions.items()}

    def __getitem__(self, key: str) -> Distribution:
        return self.dimensions[key]

    def __iter__(self):
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"SearchSpace({self.dimensions!r})"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One configuration, each dimension drawn on its own scale."""
        return {name: dist.sample(rng) for name, dist in self.dimensions.items()}

    def grid(self, n: int | Mapping[str, int] = 3) -> list[dict[str, Any]]:
        """Every combination of ``n`` values per dimension (per-name dict
        allowed), in ``sklearn.model_selection.ParameterGrid`` order."""
        per = {k: (n.get(k, 3) if isinstance(n, Mapping) else n) for k in self.dimensions}
        axes = {k: d.grid(per[k]) for k, d in self.dimensions.items()}
        return [dict(p) for p in ParameterGrid(axes)]

    def shrink(self, configs: Sequence[Mapping[str, Any]], margin: float = 0.25) -> SearchSpace:
        """The region around ``configs`` (the best trials), each dimension
        shrunk on its own scale."""
        return SearchSpace({k: d.shrink([c[k] for c in configs if k in c], margin)
                            for k, d in self.dimensions.items()})

    def to_dict(self) -> dict[str, Any]:
        return {k: d.to_dict() for k, d in self.dimensions.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        return cls(data)

    def check_params(self, estimator: Any) -> None:
        """Raise if a hyperparameter is not one of ``estimator.get_params()``."""
        valid = sorted(estimator.get_params())
        unknown = [k for k in self.dimensions if k not in valid]
        if unknown:
            raise ValueError(
                f"{type(estimator).__name__} has no hyperparameter "
                f"{', '.join(repr(u) for u in unknown)}. Valid names: {valid}."
            )
