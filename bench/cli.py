"""``python -m bench``: run the chosen phases, print their table, merge their figures into bench.json."""

from __future__ import annotations

import argparse
import base64
import io
import os
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bench import results, services
from bench.context import PhaseContext, progress_line
from bench.phases import load_phases

ROOT = Path(__file__).resolve().parent.parent


def build_parser(phases: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="sleekbatch throughput figures on PostgreSQL + Redis with real workers."
    )
    parser.add_argument(
        "--phase",
        action="append",
        choices=list(phases),
        metavar="NAME",
        help=f"run this phase (repeatable; default all, in order: {', '.join(phases)})",
    )
    for name in phases:
        parser.add_argument(f"--skip-{name}", action="store_true", help=f"leave the {name} phase out")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=1, help="prefork children per worker (default 1)")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the generated orders")
    parser.add_argument("--output", type=Path, help="JSON path (default <VAR_DIR>/bench.json)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed, too")
    parser.add_argument(
        "--allow-any-database",
        action="store_true",
        help="reset a database whose name lacks 'bench' (the bench empties the order and batch tables)",
    )
    for module in phases.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser.add_argument_group(f"{module.NAME} phase"))
    return parser


def parse_args(argv=None, phases=None) -> argparse.Namespace:
    phases = phases if phases is not None else load_phases()
    parser = build_parser(phases)
    args = parser.parse_args(argv)
    if args.workers < 1 or args.concurrency < 1:
        parser.error("--workers and --concurrency must be positive")
    args.phases = selected_phases(args, phases)
    for name in args.phases:
        if hasattr(phases[name], "check_arguments"):
            phases[name].check_arguments(args, parser)
    return args


def selected_phases(args, phases: dict) -> list[str]:
    """The phases to run, in registry order: --phase if given, else all; minus --skip-NAME."""
    chosen = set(args.phase) if args.phase else set(phases)
    return [name for name in phases if name in chosen and not getattr(args, f"skip_{name.replace('-', '_')}")]


def all_goals(phases: dict) -> tuple:
    return tuple(goal for module in phases.values() for goal in module.GOALS)


def all_rows(phases: dict) -> tuple:
    return tuple(row for module in phases.values() for row in module.TABLE_ROWS)


def setup_django(args) -> Path:
    """Check the services, create and migrate the database, seed the demo suppliers; VAR_DIR."""
    database_url, _ = services.service_urls()
    database_name = urlsplit(database_url).path.lstrip("/")
    if "bench" not in database_name and not args.allow_any_database:
        raise SystemExit(
            f"bench: refusing to empty database {database_name!r}: use a database named *bench* "
            "(`make bench` uses <PG_URL>_bench) or pass --allow-any-database"
        )
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sleekbatch.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Outside the embedded default the settings refuse a missing or placeholder key; the bench's
    # processes (this one, gunicorn, the workers) share a random one unless one is given.
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    # Nor start without a field-encryption key; the bench's suppliers carry no encrypted details.
    if not os.environ.get("SLEEKBATCH_FIELD_KEYS"):
        os.environ["SLEEKBATCH_FIELD_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    created = services.ensure_database(database_url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from sleekbatch.services_check import ServiceUnavailable, check_broker

    try:
        check_broker()
    except ServiceUnavailable as exc:
        raise SystemExit(f"bench: {exc}")
    progress_line("setup", f"database {database_name}{' (created)' if created else ''}: migrate, seed_demo")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    return Path(settings.VAR_DIR)


def main(argv=None) -> int:
    phases = load_phases()
    args = parse_args(argv, phases)
    if not args.phases:
        raise SystemExit("bench: every phase was skipped")
    var_dir = setup_django(args)
    output = args.output or var_dir / "bench.json"

    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    run = {"run_id": run_id, "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
    run["machine"] = services.machine_info()
    ran: dict[str, dict] = {}
    figures: dict[str, dict] = {}
    failures: list[str] = []
    for name in args.phases:
        ctx = PhaseContext(name=name, args=args, var_dir=var_dir, run_id=run_id)
        started_at = datetime.now(UTC)
        started = time.monotonic()
        ctx.progress(f"phase {name} ({run_id})")
        figures[name] = phases[name].run(ctx)
        ran[name] = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - started, 1),
            "ok": not ctx.failures,
            "git_commit": run["machine"].get("git_commit"),
        }
        if ctx.failures:
            ran[name]["failures"] = ctx.failures
        failures += [f"{name}: {failure}" for failure in ctx.failures]

    goals = all_goals(phases)
    merged = results.merge_results(results.read_json(output), run=run, phases=ran, figures=figures, goals=goals)
    results.write_json(output, merged)
    print(f"\nsleekbatch bench (PostgreSQL + Redis, real workers) — phases run now: {', '.join(args.phases)}")
    this_run = {key: value for name in args.phases for key, value in figures[name].items()}
    print(results.render_table(this_run, all_rows(phases), goals))
    kept = sorted(set(merged["phases"]) - set(args.phases))
    if kept:
        earlier = ", ".join(f"{name} ({merged['phases'][name]['run_id']})" for name in kept)
        print(f"\nkept from earlier runs: {earlier}")
    print(f"figures merged into {output}")
    if failures:
        print("bench: FAILED — " + "; ".join(failures), file=sys.stderr)
        return 1
    missed = [name for name, met in results.goal_results(this_run, goals).items() if met is False]
    if missed and args.strict:
        print(f"bench: goals missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0
