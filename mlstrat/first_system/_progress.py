"""Progress of a long baseline: events for a callback, stage lines for a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TextIO


@dataclass(frozen=True)
class ProgressEvent:
    """What the workflow is doing now.

    ``stage`` is one of 'read', 'splits', 'preprocess', 'train', 'epoch',
    'evaluate', 'diagnose', 'store', 'session', 'compare', 'done'; ``step`` of
    ``total`` counts stages (epochs repeat their model's step).
    """

    stage: str
    message: str
    step: int
    total: int
    elapsed: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fraction": self.fraction}


class StageLines:
    """A progress callback printing one line per stage (epochs at most every
    ``every`` seconds) to ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, every: float = 2.0):
        self.stream = stream
        self.every = every
        self._last_epoch = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage == "epoch":
            if event.elapsed - self._last_epoch < self.every:
                return
            self._last_epoch = event.elapsed
        print(f"[{event.elapsed:6.1f}s {event.step}/{event.total}] {event.message}",
              file=self.stream or sys.stderr, flush=True)


class Reporter:
    """Sends events to ``callback`` and times each stage."""

    def __init__(self, callback: Callable[[ProgressEvent], None] | None, total: int):
        self.callback, self.total = callback, total
        self.step = 0
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._stage: str | None = None
        self._stage_start = self.start

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def begin(self, key: str, stage: str, message: str) -> None:
        """Close the running stage and start ``key``."""
        self.end()
        self.step += 1
        self._stage, self._stage_start = key, time.perf_counter()
        self._emit(stage, message)

    def end(self) -> None:
        if self._stage is not None:
            self.timings[self._stage] = time.perf_counter() - self._stage_start
            self._stage = None

    def finish(self) -> None:
        """Close the running stage and report the total time."""
        self.end()
        self.step = self.total
        self._emit("done", f"done in {self.elapsed():.1f}s")

    def epoch(self, message: str) -> None:
        self._emit("epoch", message)

    def _emit(self, stage: str, message: str) -> None:
        if self.callback is not None:
            self.callback(ProgressEvent(stage, message, self.step, self.total, self.elapsed()))
