"""Progress of a study: one status line (done/total, best so far, elapsed,
time left) and notices printed above it.

:meth:`Study.optimize` drives any object with ``begin(start)``,
``trial(record)``, ``notice(text)`` and ``close()``; :class:`TrialBar` is
the one ``mlstrat tune`` uses. On a terminal its line is updated in place
(tqdm); in a log or a pipe it prints one line per finished trial instead.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from tqdm import tqdm

__all__ = ["StudyStart", "TrialBar", "WaitingForTrialsWarning", "status_text",
           "waiting_message"]


class WaitingForTrialsWarning(UserWarning):
    """A study waits for trials another driver holds (without a progress object)."""


@dataclass(frozen=True)
class StudyStart:
    """What a progress display needs before the first trial.

    ``total`` and ``done`` count trials, or trainings (one per trial per
    rung) for successive halving and Hyperband (``unit='trainings'``);
    ``done`` is what a resumed study had already finished.
    """

    name: str
    total: int
    done: int
    unit: str
    metric: str
    greater_is_better: bool
    best: tuple[float, int] | None = None


def status_text(done: int, total: int, unit: str, best: str, elapsed: float,
                remaining: float | None) -> str:
    """The status line of a study (the plain-text form of the bar).

    Examples
    --------
    >>> status_text(3, 12, "trials", "best dev_error 0.0412 (trial 2)", 65.0, 195.0)
    '3/12 trials | best dev_error 0.0412 (trial 2) | elapsed 01:05, left ~03:15'
    >>> status_text(0, 12, "trials", "", 1.0, None)
    '0/12 trials | elapsed 00:01, left ?'
    """
    left = "?" if remaining is None else "~" + tqdm.format_interval(remaining)
    middle = f" | {best}" if best else ""
    return (f"{done}/{total} {unit}{middle} | elapsed {tqdm.format_interval(elapsed)}, "
            f"left {left}")


class TrialBar:
    """done/total, best so far, elapsed and time left for a running study.

    Parameters
    ----------
    stream : text stream, optional
        Where the status goes (default ``sys.stderr``).
    in_place : bool, optional
        Update one line in place (tqdm). Default: when ``stream`` is a terminal;
        otherwise one line per finished trial.
    verbose : bool, default=False
        Also print one line per finished trial to ``out`` (failed trials
        always are).
    out : text stream, optional
        Where notices and trial lines go (default ``sys.stdout``).
    """

    def __init__(self, stream: TextIO | None = None, *, in_place: bool | None = None,
                 verbose: bool = False, out: TextIO | None = None) -> None:
        self.stream, self.in_place, self.verbose, self.out = stream, in_place, verbose, out
        self._start: StudyStart | None = None
        self._bar: Any = None
        self._done = 0
        self._t0 = 0.0
        self._best: tuple[float, int, int | None] | None = None

    # -- the protocol Study.optimize drives --------------------------------
    def begin(self, start: StudyStart) -> None:
        self._start, self._done, self._t0 = start, start.done, time.monotonic()
        self._best = None if start.best is None else (*start.best, None)
        stream = self.stream or sys.stderr
        in_place = self.in_place if self.in_place is not None else _isatty(stream)
        if in_place:
            self._bar = tqdm(total=start.total, initial=start.done, file=stream,
                             desc=self._best_text(), dynamic_ncols=True, leave=True,
                             bar_format=("{n_fmt}/{total_fmt} " + start.unit + " {bar:12}| "
                                         "{desc} | elapsed {elapsed}, left {remaining}"))

    def trial(self, record: Mapping[str, Any]) -> None:
        """One finished trial (or one rung of it): count it, keep the best."""
        self._keep_best(record)
        if self.verbose or record.get("state") == "failed":
            self.notice(trial_line(record))
        self._done += 1
        if self._bar is not None:
            self._bar.set_description_str(self._best_text(), refresh=False)
            self._bar.update(1)
        elif self._start is not None:
            print(self.status(), file=self.stream or sys.stderr, flush=True)

    __call__ = trial

    def notice(self, text: str) -> None:
        """A message above the status line."""
        out = self.out or sys.stdout
        if self._bar is not None:
            tqdm.write(text, file=out)
        else:
            print(text, file=out, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # -- text --------------------------------------------------------------
    def status(self) -> str:
        """The current status line (plain text)."""
        start = self._start
        if start is None:
            return ""
        elapsed = time.monotonic() - self._t0
        ran = self._done - start.done
        remaining = (elapsed / ran * max(start.total - self._done, 0)) if ran else None
        return status_text(self._done, start.total, start.unit, self._best_text(), elapsed,
                           remaining)

    def _keep_best(self, record: Mapping[str, Any]) -> None:
        value = record.get("value")
        if record.get("state") != "complete" or value is None or self._start is None:
            return
        better = (self._best is None or (value > self._best[0] if self._start.greater_is_better
                                         else value < self._best[0]))
        if better:
            self._best = (float(value), int(record["number"]),
                          record.get("rung") if self._start.unit == "trainings" else None)

    def _best_text(self) -> str:
        if self._best is None or self._start is None:
            return "no complete trial yet"
        value, number, rung = self._best
        where = f"trial {number}" + (f", rung {rung}" if rung is not None else "")
        return f"best {self._start.metric} {value:.4g} ({where})"


def trial_line(record: Mapping[str, Any]) -> str:
    """One finished trial in one line.

    Examples
    --------
    >>> trial_line({"number": 3, "state": "complete", "value": 0.0412, "epochs": 5,
    ...             "seconds": 1.25, "metrics": {"dev_error": 0.0412}})
    'trial   3 complete dev_error=0.0412  epochs=5  1.2s'
    >>> trial_line({"number": 4, "state": "failed", "value": None, "error": "boom\\nmore",
    ...             "epochs": 0, "seconds": 0.1, "metrics": {}})
    'trial   4 failed   boom  epochs=0  0.1s'
    """
    metric = next((k for k in record.get("metrics", {}) if k.startswith("dev_")), "value")
    value = record.get("value")
    error = str(record.get("error") or "no message").strip().splitlines() or ["no message"]
    score = f"{metric}={value:.4g}" if value is not None else error[0][:300]
    rung = f" rung {record['rung']}" if record.get("rung") else ""
    return (f"trial {record['number']:>3}{rung} {record['state']:<8} {score}"
            f"  epochs={record.get('epochs', 0)}  {record.get('seconds') or 0.0:.1f}s")


# -- a study waiting for another driver's trials ----------------------------
def waiting_message(running: Sequence[Mapping[str, Any]], *, stale_after: float,
                    interval: float = 5.0, now: float | None = None, host: str | None = None,
                    alive: Callable[[int], bool | None] | None = None) -> str:
    """Why a study waits for ``running`` trials of another driver, for how
    long, and how to shorten the wait.

    ``running`` rows hold ``number``, ``worker`` (``host:pid:tag``) and
    ``heartbeat_at`` (Unix seconds); ``interval`` is this driver's heartbeat
    interval.

    Examples
    --------
    >>> rows = [{"number": 5, "worker": "box:4242:ab12", "heartbeat_at": 1000.0}]
    >>> print(waiting_message(rows, stale_after=120, now=1003.0, host="box",
    ...                       alive=lambda pid: False))
    Waiting for trial 5, held by another driver (box:4242:ab12; its process 4242 on \
this machine has exited); its last heartbeat was 3 s ago. A running trial whose \
heartbeat is older than 120 s is re-queued and run here: in about 117 s. To wait \
less, give a shorter stale timeout: mlstrat tune --stale-after SECONDS (in Python, \
optimize(..., stale_after=SECONDS)); keep it well above the heartbeat interval (5 s) \
so that a live driver's trials are not taken from it.
    """
    now = time.time() if now is None else now
    host = socket.gethostname() if host is None else host
    numbers = sorted(int(r["number"]) for r in running)
    youngest = max(float(r["heartbeat_at"] or 0.0) for r in running)
    age = max(now - youngest, 0.0)
    workers = sorted({str(r["worker"]) for r in running})
    who = "; ".join(_describe_worker(w, host, alive or _pid_alive) for w in workers)
    driver = "another driver" if len(workers) == 1 else "other drivers"
    return (f"Waiting for {_trials(numbers)}, held by {driver} ({who}); "
            f"{'its last' if len(numbers) == 1 else 'the latest'} heartbeat was {age:.0f} s ago. "
            f"A running trial whose heartbeat is older than {stale_after:g} s is re-queued "
            f"and run here: in about {max(stale_after - age, 0.0):.0f} s. To wait less, give "
            "a shorter stale timeout: mlstrat tune --stale-after SECONDS (in Python, "
            f"optimize(..., stale_after=SECONDS)); keep it well above the heartbeat interval "
            f"({interval:g} s) so that a live driver's trials are not taken from it.")


def _trials(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"trial {numbers[0]}"
    shown = ", ".join(map(str, numbers[:8])) + (", ..." if len(numbers) > 8 else "")
    return f"{len(numbers)} trials ({shown})"


def _describe_worker(worker: str, host: str, alive: Callable[[int], bool | None]) -> str:
    """``host:pid:tag`` with what can be known of its process from here."""
    parts = worker.split(":")
    if len(parts) < 2 or parts[0] != host or not parts[1].isdigit():
        return worker
    pid = int(parts[1])
    state = alive(pid)
    if state is None:
        return worker
    return f"{worker}; its process {pid} on this machine {'is running' if state else 'has exited'}"


def _pid_alive(pid: int) -> bool | None:
    """Whether process ``pid`` exists (None: cannot tell, e.g. on Windows,
    where signal 0 would interrupt it)."""
    if os.name == "nt":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
