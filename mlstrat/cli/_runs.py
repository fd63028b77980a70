"""``mlstrat runs``: list the runs of a project, or show one."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlstrat.cli._common import open_project
from mlstrat.diagnosis import RUNG_LABELS, VERDICTS, Diagnosis
from mlstrat.tracking import diagnosis_of_run, run_outcome, runs_summary

#: longest value shown in the configuration table
MAX_VALUE = 70


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs", help="list the runs of a project, or show one",
        description="Error rates are shown in percent (2 decimals), regression metrics in "
                    "the target's units; the outcome is the diagnosis' status in words.")
    parser.add_argument("run", nargs="?", help="a run id or name to show in full")
    parser.add_argument("--project", default="mlstrat_project", help="project folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args.project)  # read-only: never created, never locked
    if args.run is None:
        table = runs_summary(project)
        if table.empty:
            print(f"No runs in {project.folder} yet.")
        else:
            print(table.to_string(index=False))
        return 0
    print(describe_run(project.get_run(args.run)))
    return 0


def describe_run(record) -> str:
    """One run in full: its ladder, what the diagnosis decides, its configuration."""
    out = run_outcome(record)
    word = "error" if out["metric"] == "error rate" else out["metric"]
    lines = [f"run {record.id}: {record.name}  ({record.created_at}, {record.status})"]
    if record.human_error is not None:
        lines.append(f"  human-level error: {out['human']}")
    diagnosis = _diagnosis(record)
    rungs = _rungs(diagnosis)
    for split in dict.fromkeys([*record.errors, *rungs]):
        value = out["values"].get(split, "-")
        size = record.sizes.get(split)
        line = f"  {RUNG_LABELS.get(split, split):<10} {word} {value}"
        line += f"  (n = {size:,})" if size else ""
        if split in rungs:
            line += f"  95% interval {rungs[split]}"
        lines.append(line)
    lines.extend(_gaps(diagnosis))
    lines.append(f"  outcome: {out['outcome']}")
    lines.append(f"  primary problem: {out['problem'] if out['problem'] != '-' else 'none'}")
    if out["headline"]:
        lines.append(f"  {out['headline']}")
    if out["next_step"]:
        lines.append(f"  Next: {out['next_step']}")
    if out["source"] == "computed":
        lines.append("  (no stored diagnosis: computed from the run's errors and sizes)")
    if record.config:
        lines.append("configuration")
        lines.extend(config_table(record.config))
    return "\n".join(lines)


def _diagnosis(record) -> Diagnosis | None:
    try:
        return diagnosis_of_run(record)[0]
    except ValueError:
        return None


def _rungs(d: Diagnosis | None) -> dict[str, str]:
    """Split -> '[low, high]' from the run's diagnosis (empty when it has none)."""
    if d is None:
        return {}
    return {r.name: f"[{d.format_value(r.low)}, {d.format_value(r.high)}]"
            for r in d.rungs if r.name in RUNG_LABELS and r.name != "human"
            and r.low is not None}


def _gaps(d: Diagnosis | None) -> list[str]:
    """Each gap with its interval and verdict in words; for a gap too small to
    tell, the examples that would tell it from noise and where."""
    if d is None or not d.gaps:
        return []
    lines = [f"  gaps ({d.confidence:.0%} intervals, verdicts after Holm's correction):"]
    width = max(len(g.label) for g in d.gaps)
    for g in d.gaps:
        ci = "" if g.low is None else f" [{d.format_gap(g.low)}, {d.format_gap(g.high)}]"
        line = f"    {g.label:<{width}} {d.format_gap(g.value)}{ci}  {VERDICTS[g.verdict]}"
        if g.verdict == "too_small_to_tell" and g.size_to_tell:
            sets = " and ".join(RUNG_LABELS[s] for s in g.enlarge) or "each set"
            line += f": about {g.size_to_tell:,} examples in {sets} would tell"
        lines.append(line)
    return lines


def config_table(config: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested settings as aligned ``key  value`` lines (dotted keys, long values cut).

    Examples
    --------
    >>> print("\\n".join(config_table({"model": "nn", "baseline": {"l2": 0.01}})))
      model        nn
      baseline.l2  0.01
    """
    flat = _flatten(config, prefix)
    width = max((len(k) for k in flat), default=0)
    return [f"  {k:<{width}}  {v}" for k, v in flat.items()]


def _flatten(config: dict[str, Any], prefix: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = _short(value)
    return flat


def _short(value: Any) -> str:
    scalar = value is None or isinstance(value, (str, bool, int, float))
    text = str(value) if scalar else json.dumps(value, default=str)
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
