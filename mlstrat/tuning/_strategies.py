"""Search strategies: which configuration trial number ``n`` tries.

Every strategy derives trial ``n``'s params from ``(seed, n)`` (plus, for
coarse-to-fine, the trials finished so far), and the study writes them in
the same transaction that numbers the trial; so a restarted process never
repeats a configuration and two processes never try the same one.

Examples
--------
>>> from mlstrat.tuning._space import SearchSpace, loguniform
>>> space = SearchSpace({"alpha": loguniform(1e-4, 1.0)})
>>> s = RandomSearch()
>>> s.propose(space, 3, seed=0) == s.propose(space, 3, seed=0)
True
>>> GridSearch(n_per_dim=4).n_trials(space)
4
>>> SuccessiveHalving(min_epochs=1, max_epochs=27, eta=3).rungs(27)
[(27, 1), (9, 3), (3, 9), (1, 27)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlstrat.tuning._space import SearchSpace

__all__ = ["Strategy", "GridSearch", "RandomSearch", "CoarseToFine",
           "SuccessiveHalving", "Hyperband", "STRATEGIES", "make_strategy"]


def trial_rng(seed: int, number: int) -> np.random.Generator:
    """The generator of trial ``number``: the same after any restart."""
    return np.random.default_rng([int(seed), int(number)])


class Strategy:
    """Base class: ``propose(space, number, seed, finished)`` -> params."""

    kind = ""
    #: True for strategies that train in rungs with epochs as the resource
    multi_fidelity = False

    def propose(self, space: SearchSpace, number: int, seed: int = 0,
                finished: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        return space.sample(trial_rng(seed, number))

    def n_trials(self, space: SearchSpace) -> int | None:
        """The strategy's own number of trials, if it has one (a grid)."""
        return None

    def n_evaluations(self, n_trials: int) -> int:
        """Trainings in all for a study of ``n_trials`` (one each here)."""
        return n_trials

    def budget_note(self, n_trials: int | None) -> str | None:
        """What the strategy does with ``n_trials``, when that needs saying."""
        return None

    def brackets(self, n_trials: int) -> list[tuple[int, list[tuple[int, int]]]]:
        """(bracket index, rungs of (configurations, epochs)): defined by the
        strategies with ``multi_fidelity = True``, which the study runs in rungs.

        Examples
        --------
        >>> RandomSearch().brackets(10)
        Traceback (most recent call last):
        ...
        NotImplementedError: RandomSearch trains every trial once and has no brackets; \
a strategy with multi_fidelity = True must define brackets(n_trials).
        """
        raise NotImplementedError(
            f"{type(self).__name__} trains every trial once and has no brackets; "
            "a strategy with multi_fidelity = True must define brackets(n_trials).")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **{k: v for k, v in vars(self).items()
                                      if not k.startswith("_")}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind")
        return f"{type(self).__name__}({args})"


class RandomSearch(Strategy):
    """Each trial samples every dimension on its own scale."""

    kind = "random"


class GridSearch(Strategy):
    """Every combination of ``n_per_dim`` values per dimension, each on its
    own scale (``sklearn.model_selection.ParameterGrid`` order).

    Parameters
    ----------
    n_per_dim : int or dict, default=3
        Values per dimension (a choice always uses all of its values).
    """

    kind = "grid"

    def __init__(self, n_per_dim: int | Mapping[str, int] = 3) -> None:
        self.n_per_dim = dict(n_per_dim) if isinstance(n_per_dim, Mapping) else int(n_per_dim)

    def propose(self, space, number, seed=0, finished=()):
        grid = space.grid(self.n_per_dim)
        return grid[number] if number < len(grid) else None

    def n_trials(self, space: SearchSpace) -> int:
        return len(space.grid(self.n_per_dim))


class CoarseToFine(Strategy):
    """Random search, then random search again in the region around the
    best ``top_k`` finished trials, each dimension shrunk on its own scale.

    Parameters
    ----------
    n_coarse : int, default=10
        Trials sampled from the whole space first.
    top_k : int, default=3
        How many of the best trials define the fine region.
    margin : float, default=0.1
        Widening of the region on each side, as a fraction of the full
        range on the dimension's scale.
    """

    kind = "coarse_to_fine"

    def __init__(self, n_coarse: int = 10, top_k: int = 3, margin: float = 0.1) -> None:
        self.n_coarse, self.top_k, self.margin = int(n_coarse), int(top_k), float(margin)

    def propose(self, space, number, seed=0, finished=()):
        rng = trial_rng(seed, number)
        best = [t["params"] for t in finished][: self.top_k]
        if number < self.n_coarse or not best:
            return space.sample(rng)
        return space.shrink(best, self.margin).sample(rng)

    def region(self, space: SearchSpace, finished: Sequence[Mapping[str, Any]]) -> SearchSpace:
        """The fine region the next trials sample from."""
        best = [t["params"] for t in finished][: self.top_k]
        return space.shrink(best, self.margin) if best else space


class SuccessiveHalving(Strategy):
    """Successive halving with epochs as the resource.

    ``n`` configurations train ``min_epochs``; the best ``1/eta`` continue
    (``warm_start=True``, only the extra epochs) to ``eta`` times as many,
    and so on up to ``max_epochs``. ``n`` is the study's ``n_trials``.
    """

    kind = "halving"
    multi_fidelity = True

    def __init__(self, min_epochs: int = 1, max_epochs: int = 27, eta: int = 3) -> None:
        if not 1 <= int(min_epochs) <= int(max_epochs):
            raise ValueError(
                f"Successive halving needs 1 <= min_epochs <= max_epochs. Got "
                f"min_epochs={min_epochs!r}, max_epochs={max_epochs!r}.")
        if int(eta) < 2:
            raise ValueError(f"'eta' must be an int >= 2. Got {eta!r}.")
        self.min_epochs, self.max_epochs, self.eta = int(min_epochs), int(max_epochs), int(eta)

    def rungs(self, n: int, min_epochs: int | None = None) -> list[tuple[int, int]]:
        """(configurations, total epochs each) per rung for ``n`` configurations."""
        r, out = min_epochs or self.min_epochs, []
        while True:
            out.append((max(n, 1), min(r, self.max_epochs)))
            if r >= self.max_epochs or n // self.eta < 1:
                return out
            n, r = n // self.eta, r * self.eta

    def brackets(self, n_trials: int) -> list[tuple[int, list[tuple[int, int]]]]:
        """(bracket index, rungs): one bracket of ``n_trials`` configurations."""
        return [(0, self.rungs(n_trials))]

    def n_evaluations(self, n_trials: int) -> int:
        """Trainings in all: one per configuration per rung it reaches.

        Examples
        --------
        >>> SuccessiveHalving(min_epochs=1, max_epochs=27, eta=3).n_evaluations(27)
        40
        """
        return sum(n for _, rungs in self.brackets(n_trials) for n, _ in rungs)

    def budget_note(self, n_trials: int | None) -> str:
        """What the rungs do with ``n_trials``, in one sentence.

        Examples
        --------
        >>> print(SuccessiveHalving(min_epochs=1, max_epochs=9, eta=3).budget_note(9))
        Successive halving (eta=3): 9 configurations train 1 epoch; the best 3 continue \
to 3 epochs, 1 to 9 (13 trainings of 9 trials).
        """
        rungs = self.rungs(n_trials or 0)
        (n0, e0), rest = rungs[0], rungs[1:]
        text = (f"Successive halving (eta={self.eta}): {n0} configurations train "
                f"{_epochs(e0)}")
        if rest:
            steps = [f"{n} to {e}" for n, e in rest]
            steps[0] = f"the best {rest[0][0]} continue to {_epochs(rest[0][1])}"
            text += "; " + ", ".join(steps)
        return text + f" ({self.n_evaluations(n0)} trainings of {n0} trials)."


class Hyperband(SuccessiveHalving):
    """Hyperband: several successive-halving brackets trading many cheap
    configurations against few long ones. ``n_trials`` is ignored: the
    brackets set the number of configurations."""

    kind = "hyperband"

    def brackets(self, n_trials: int = 0) -> list[tuple[int, list[tuple[int, int]]]]:
        s_max = int(math.floor(math.log(self.max_epochs / self.min_epochs, self.eta) + 1e-9))
        out = []
        for i, s in enumerate(range(s_max, -1, -1)):
            n = int(math.ceil((s_max + 1) / (s + 1) * self.eta ** s))
            r = max(self.min_epochs, int(round(self.max_epochs / self.eta ** s)))
            out.append((i, self.rungs(n, r)[: s + 1]))
        return out

    def budget_note(self, n_trials: int | None) -> str:
        """How many trials the brackets run, and why ``n_trials`` does not count.

        Examples
        --------
        >>> print(Hyperband(min_epochs=1, max_epochs=9, eta=3).budget_note(50))
        Hyperband (min_epochs=1, max_epochs=9, eta=3) runs 3 brackets: 9 configurations \
from 1 epoch, 5 from 3 epochs, 3 from 9 epochs; 17 trials in all (22 trainings). \
[study] n_trials = 50 is not used: the brackets set the number of trials \
(floor(log_3(9/1)) + 1 = 3 brackets). For more trials raise max_epochs/min_epochs; \
for exactly n_trials configurations use strategy = "halving".
        """
        brackets = self.brackets()
        firsts = [rungs[0] for _, rungs in brackets]
        parts = [f"{firsts[0][0]} configurations from {_epochs(firsts[0][1])}"]
        parts += [f"{n} from {_epochs(e)}" for n, e in firsts[1:]]
        total = sum(n for n, _ in firsts)
        text = (f"Hyperband (min_epochs={self.min_epochs}, max_epochs={self.max_epochs}, "
                f"eta={self.eta}) runs {len(brackets)} brackets: {', '.join(parts)}; "
                f"{total} trials in all ({self.n_evaluations(0)} trainings).")
        if n_trials is not None and n_trials != total:
            text += (f" [study] n_trials = {n_trials} is not used: the brackets set the "
                     f"number of trials (floor(log_{self.eta}({self.max_epochs}/"
                     f"{self.min_epochs})) + 1 = {len(brackets)} brackets). For more trials "
                     "raise max_epochs/min_epochs; for exactly n_trials configurations use "
                     'strategy = "halving".')
        return text


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


#: name in a config -> class; validation lists these names
STRATEGIES: dict[str, type[Strategy]] = {
    "random": RandomSearch,
    "grid": GridSearch,
    "coarse_to_fine": CoarseToFine,
    "halving": SuccessiveHalving,
    "successive_halving": SuccessiveHalving,
    "hyperband": Hyperband,
}


def make_strategy(spec: str | Strategy | Mapping[str, Any]) -> Strategy:
    """A strategy from a name, a ``to_dict`` form or an instance."""
    if isinstance(spec, Strategy):
        return spec
    options: dict[str, Any] = {}
    if isinstance(spec, Mapping):
        options = dict(spec)
        spec = options.pop("kind", None)
    if spec not in STRATEGIES:
        raise ValueError(f"Unknown strategy {spec!r}. Valid names: {sorted(STRATEGIES)}.")
    try:
        return STRATEGIES[spec](**options)
    except TypeError as exc:
        raise ValueError(f"Bad options for strategy {spec!r}: {exc}") from None
