"""The bench's phase registry, phase selection and the merge of figures into bench.json (no services)."""

import argparse
import json
import types

import pytest

from bench import cli, results
from bench.phases import PHASES, load_phases


def fake_phase(name: str, goals=(), rows=()) -> types.ModuleType:
    module = types.ModuleType(f"fake_{name}")
    module.NAME, module.GOALS, module.TABLE_ROWS = name, goals, rows
    module.run = lambda ctx: {}
    return module


def test_every_registered_phase_keeps_the_contract():
    # when
    phases = load_phases()

    # then
    assert list(phases)[:4] == ["pool", "api", "steady", "sweep"]
    assert len(phases) == len(PHASES)
    figure_owner = {}
    for name, module in phases.items():
        assert callable(module.run)
        for figure, op, bound in module.GOALS:
            assert op in {">=", "<"} and isinstance(bound, int | float), (name, figure)
        for figure, label, unit in module.TABLE_ROWS:
            assert isinstance(label, str) and isinstance(unit, str)
            assert figure not in results.RESERVED_KEYS
            # one phase owns each figure: a phase run alone must not overwrite another's
            assert figure_owner.setdefault(figure, name) == name, figure
        for figure, _, _ in module.GOALS:
            assert figure in {row[0] for row in module.TABLE_ROWS}, f"goal {figure} of {name} is not in its table"


def test_it_refuses_a_phase_that_breaks_the_contract(monkeypatch):
    # given a module without run()
    broken = types.ModuleType("bench_broken_phase")
    broken.NAME, broken.GOALS, broken.TABLE_ROWS = "broken", (), ()
    monkeypatch.setitem(__import__("sys").modules, "bench_broken_phase", broken)

    # when / then
    with pytest.raises(TypeError, match="has no run"):
        load_phases(("bench_broken_phase",))


def test_it_runs_every_phase_by_default_and_only_the_chosen_ones_with_phase():
    # given
    phases = {name: fake_phase(name) for name in ("pool", "api", "steady", "sweep")}

    # when / then
    assert cli.parse_args([], phases).phases == ["pool", "api", "steady", "sweep"]
    # registry order, whatever the order on the command line
    assert cli.parse_args(["--phase", "sweep", "--phase", "pool"], phases).phases == ["pool", "sweep"]
    assert cli.parse_args(["--skip-api", "--skip-steady"], phases).phases == ["pool", "sweep"]
    with pytest.raises(SystemExit):
        cli.parse_args(["--phase", "nope"], phases)


def test_the_real_command_line_parses_each_phases_own_flags():
    # when
    args = cli.parse_args(["--phase", "pool", "--orders", "2000", "--api-seconds", "3"])

    # then
    assert args.phases == ["pool"]
    assert (args.orders, args.api_seconds) == (2000, 3)
    with pytest.raises(SystemExit):
        cli.parse_args(["--phase", "pool", "--orders", "0"])


def merge(previous, name, figures, run_id):
    goals = (("pool_orders_per_s", ">=", 5000), ("api_p95_ms", "<", 25))
    return results.merge_results(
        previous,
        run={"run_id": run_id, "timestamp": f"t-{run_id}", "machine": {"cpus": 2}},
        phases={name: {"started_at": f"t-{run_id}", "ok": True}},
        figures={name: figures},
        goals=goals,
    )


def test_a_phase_run_alone_replaces_its_own_figures_and_keeps_the_others(tmp_path):
    # given a full run, written to disk
    path = tmp_path / "bench.json"
    first = merge({}, "pool", {"pool_orders_per_s": 4000.0, "pool_old_figure": 1}, "run1")
    first = results.merge_results(
        first,
        run={"run_id": "run1", "timestamp": "t-run1", "machine": {}},
        phases={"api": {"ok": True}},
        figures={"api": {"api_p95_ms": 30.0}},
        goals=(("pool_orders_per_s", ">=", 5000), ("api_p95_ms", "<", 25)),
    )
    results.write_json(path, first)

    # when the pool phase runs alone later, without one of its earlier figures
    second = merge(results.read_json(path), "pool", {"pool_orders_per_s": 6000.0}, "run2")

    # then
    assert second["pool_orders_per_s"] == 6000.0
    assert "pool_old_figure" not in second  # a phase's stale figure does not linger
    assert second["api_p95_ms"] == 30.0  # kept from the first run
    assert second["phases"]["pool"]["run_id"] == "run2"
    assert second["phases"]["pool"]["figures"] == ["pool_orders_per_s"]
    assert second["phases"]["api"]["run_id"] == "run1"
    assert second["run_id"] == "run2"
    assert second["goals"] == {"pool_orders_per_s": True, "api_p95_ms": False}  # judged over both runs
    json.dumps(second)


def test_it_does_not_merge_into_a_file_without_phase_records():
    # given a bench.json from before phases were recorded
    legacy = {"pool_orders_per_s": 9000.0, "api_p95_ms": 14.6, "timestamp": "old"}

    # when
    merged = merge(legacy, "pool", {"pool_orders_per_s": 5000.0}, "run1")

    # then its figures cannot be told apart, so none is kept
    assert "api_p95_ms" not in merged
    assert set(merged["phases"]) == {"pool"}


def test_it_refuses_a_phase_figure_named_like_a_reserved_key():
    with pytest.raises(ValueError, match="reserved"):
        merge({}, "pool", {"phases": 1}, "run1")


def test_a_goal_comparison_it_does_not_know_is_an_error():
    with pytest.raises(ValueError, match="unknown goal comparison"):
        results.goal_results({"x": 1}, (("x", "<=", 2),))


def test_selected_phases_honours_skip_flags_with_dashes():
    # given a phase whose name has a dash
    phases = {"a": fake_phase("a"), "b-c": fake_phase("b-c")}
    args = argparse.Namespace(phase=None, skip_a=False, skip_b_c=True)

    # then
    assert cli.selected_phases(args, phases) == ["a"]
