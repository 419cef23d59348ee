"""`make bench` (``python -m bench``): sleekbatch's figures on PostgreSQL + Redis with real workers.

Each phase measures one thing and returns its figures; ``--phase NAME`` (repeatable) runs
only those, ``--skip-NAME`` leaves one out, and by default every phase runs in registry order
(bench/phases/__init__.py). The run refuses anything but PostgreSQL + Redis, creates the
database if missing (it must be named *bench*: phases empty the order and batch tables),
migrates and seeds the demo suppliers, then runs the phases, prints one table and MERGES the
figures into ``<VAR_DIR>/bench.json``: a phase that ran replaces its own keys, the keys of
phases that did not run stay, and ``phases.<name>`` records which run (``run_id``), when
(``started_at``), how long, at which commit and whether it passed, with the list of figure
keys it wrote. ``goals`` is judged over the merged figures. The run exits 1 when a phase
reported a broken invariant (and, with ``--strict``, when a goal is missed), so a fast but
wrong result never passes as a good one.

Adding a phase — one module ``bench/phases/<name>.py`` and one line in ``PHASES``:

    NAME = "rollup"                                   # --phase rollup, --skip-rollup
    GOALS = (("rollup_seconds", "<", 5),)             # (figure, ">=" or "<", bound)
    TABLE_ROWS = (("rollup_seconds", "daily rollup of 100k orders", "s"),)  # (figure, label, unit)

    def add_arguments(parser):                        # optional: the phase's own flags
        parser.add_argument("--rollup-orders", type=int, default=100_000)

    def check_arguments(args, parser):                # optional: parser.error() on bad values
        ...

    def run(ctx) -> dict:                             # the figures, flat; names start with NAME
        ctx.reset_bench_data()                        # if it needs empty order/batch tables
        ctx.progress("seeding …")                     # a progress line on long work
        workers = ctx.start_workers()                 # real Celery workers, if it needs them
        try:
            ...
        finally:
            ctx.stop_workers(workers)                 # also purges what they left queued
        if broken:
            ctx.fail("what broke")                    # the run exits 1 after the other phases
        return {"rollup_seconds": 1.23}

A phase module imports nothing from Django at load time (the CLI imports every phase to
build its arguments before ``django.setup()``; tests import them without services): import
models inside ``run``. ``ctx`` (bench.context.PhaseContext) also gives ``args`` (the whole
command line), ``var_dir``, ``run_id`` and ``queue_backlog()``. Shared helpers: bench.orders
(generated orders, COPY of submitted orders), bench.load (gunicorn, wrk with post_orders.lua),
bench.procstats (CPU time, memory), bench.invariants (pooling invariants), bench.results
(percentiles, goals, the table, bench.json).
"""
