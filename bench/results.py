"""Figures in and out: percentiles, goals, the printed table and var/bench.json (merged per phase)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

# Keys of bench.json that are not figures.
RESERVED_KEYS = frozenset({"timestamp", "machine", "goals", "phases", "run_id"})


def percentile(values, fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be within 0..1")
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def per_second(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 else None


def goal_results(figures: dict, goals) -> dict[str, bool | None]:
    """Each goal ``(figure, ">=" | "<", bound)`` met (True), missed (False) or not measured (None)."""
    results: dict[str, bool | None] = {}
    for name, op, bound in goals:
        value = figures.get(name)
        if value is None:
            results[name] = None
        elif op == ">=":
            results[name] = value >= bound
        elif op == "<":
            results[name] = value < bound
        else:
            raise ValueError(f"unknown goal comparison {op!r} for {name}")
    return results


def read_json(path: Path) -> dict:
    """The figures of earlier runs; empty when there are none or the file is unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, figures: dict) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".bench-", suffix=".json", delete=False) as tmp:
        json.dump(figures, tmp, indent=2, sort_keys=True, default=str)
        tmp.write("\n")
    os.replace(tmp.name, path)


def merge_results(previous: dict, *, run: dict, phases: dict[str, dict], figures: dict[str, dict], goals) -> dict:
    """bench.json after this run: each phase that ran replaces its own figures, the others stay.

    ``run`` describes this run (``run_id``, ``timestamp``, ``machine``); ``phases`` maps each
    phase that ran to its record (when it ran, how long, whether it passed); ``figures`` maps
    it to the figures it returned. ``phases[<name>]["figures"]`` lists the keys a phase wrote,
    so every figure in the file can be traced to the phase and run that measured it. A file
    from before phases were recorded (no ``phases`` key) is not merged: its figures cannot be
    told apart.
    """
    merged = dict(previous) if isinstance(previous.get("phases"), dict) else {}
    recorded = dict(merged.get("phases", {}))
    for name, phase_figures in figures.items():
        for key in recorded.get(name, {}).get("figures", []):
            merged.pop(key, None)
        clashing = RESERVED_KEYS.intersection(phase_figures)
        if clashing:
            raise ValueError(f"phase {name} returned reserved keys: {', '.join(sorted(clashing))}")
        merged.update(phase_figures)
        recorded[name] = dict(phases[name], run_id=run["run_id"], figures=sorted(phase_figures))
    merged.update(run)
    merged["phases"] = recorded
    merged["goals"] = goal_results(merged, goals)
    return merged


def render_table(figures: dict, rows, goals) -> str:
    """``rows`` are ``(figure key, label, unit)``; figures absent from ``figures`` are left out."""
    verdicts = goal_results(figures, goals)
    lines = []
    for key, label, unit in rows:
        if key not in figures:
            continue
        value = figures[key]
        if value is None:
            timed_out = figures.get("pool_timed_out") and key.startswith("pool_")
            shown = "TIMED OUT" if timed_out else "skipped"
        elif isinstance(value, bool):
            shown = "PASS" if value else "FAIL"
        elif isinstance(value, float):
            shown = f"{value:,.{1 if abs(value) >= 10 else 2}f} {unit}".rstrip()
        else:
            shown = f"{value:,} {unit}".rstrip()
        verdict = {True: "  goal met", False: "  GOAL MISSED", None: ""}[verdicts.get(key)]
        lines.append(f"  {label:<40} {shown:>18}{verdict}")
    return "\n".join(lines)
