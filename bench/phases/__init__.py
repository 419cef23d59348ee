"""The phase registry: one line per phase, run in this order by default.

Adding a phase is one module in this package (the contract is in bench/README.md) and
one line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PHASES = (
    "bench.phases.pool",
    "bench.phases.api",
    "bench.phases.steady",
    "bench.phases.sweep",
    "bench.phases.rollup",
    "bench.phases.scorecard",
    "bench.phases.reports",
)


def load_phases(paths=PHASES) -> dict[str, ModuleType]:
    """Phase name → module, in registry order; a module that breaks the contract fails here."""
    phases: dict[str, ModuleType] = {}
    for path in paths:
        module = importlib.import_module(path)
        for attribute in ("NAME", "GOALS", "TABLE_ROWS", "run"):
            if not hasattr(module, attribute):
                raise TypeError(f"bench phase {path} has no {attribute}")
        if module.NAME in phases:
            raise ValueError(f"two bench phases are named {module.NAME!r}")
        phases[module.NAME] = module
    return phases
