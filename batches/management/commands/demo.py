"""The main job on the embedded default, end to end with real processes.

Starts the web server (gunicorn) and a Celery worker on the filesystem broker,
submits a couple of thousand orders over the HTTP API as three buyers, waits for
them to be pooled, lets the (short) batch windows close, runs the orchestration
sweep, has the suppliers deliver over the API and prints what happened: orders by
status, batches by decision and fill, supplier scorecards and alerts, then where
to look at the result.

The orders are shaped so that every run, whatever ``--seed`` and the order in which
the requests arrive, shows every outcome (``OUTCOMES``): see ``DemoOrders``.
"""

import contextlib
import io
import json
import math
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Max, Min, Sum
from rest_framework.authtoken.models import Token

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from orders.models import Order, Refund
from sleekbatch.processes import signal_stop, stop_process_groups
from sleekbatch.services_check import database_label
from suppliers.management.commands.seed_demo import DEMO_SUPPLIER_USERS, DEMO_SUPPLIERS, DEMO_USERS
from suppliers.matching import offer_best
from suppliers.models import (
    Supplier,
    SupplierAlert,
    SupplierMembership,
    SupplierOffer,
    SupplierOrder,
    SupplierScoreSnapshot,
)
from suppliers.scoring import Standing
from suppliers.selectors import supplier_alerts_open, supplier_scorecard, suppliers_scorecards

ROOT = Path(settings.BASE_DIR)
DEMO_SUPPLIER_CODES = [code for code, *_ in DEMO_SUPPLIERS]
BUYERS = ("buyer1", "buyer2", "buyer3")
STYLES = ("classic", "oversized", "zip", "crop", "heavyweight", "raglan", "pocket", "longline")
COLORS = ("black", "navy", "heather", "sand")
DEFAULT_SEED = 7
MIN_ORDERS = 100
# The busy product types: many small orders (shares of --orders) that fill and confirm batches.
BUSY_DEMAND = {"hoodie": 0.55, "tee": 0.45}
# The product types whose whole demand arrives in one bulk request at the end, so that each makes
# exactly one batch whatever the arrival order: caps to between the nearing and the confirm
# thresholds (a nearing-target event, then admin review when the window closes), totes to half of
# the review threshold (cancelled and refunded).
REVIEW_PRODUCT = "cap"
CANCEL_PRODUCT = "tote"
# One order of this product type as large as its largest MOQ: a direct order to a supplier.
DIRECT_PRODUCT = "hoodie"
# One order of this product type with as many styles as its most flexible offer runs; that offer
# then drops a style before the order is pooled, so pooling rejects it (the catalogue accepted it).
REJECTED_PRODUCT = "tee"
# What every run must show (label in the summary → counted by ``outcome_counts``).
OUTCOMES = (
    "confirmed batches",
    "batches in admin review",
    "cancelled batches",
    "nearing-target events",
    "direct orders",
    "rejected orders",
)
# The supplier whose deliveries come with defects, so that the demo raises one alert.
DEFECTIVE_SUPPLIER = "porto-textil"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def outcome_counts() -> dict[str, int]:
    """How many of each outcome of ``OUTCOMES`` the data holds."""
    batches = dict(ProductionBatch.objects.values_list("batch_status").annotate(n=Count("id")))
    orders = dict(Order.objects.values_list("workflow_status").annotate(n=Count("id")))
    return {
        "confirmed batches": batches.get(ProductionBatch.Status.CONFIRMED, 0),
        "batches in admin review": batches.get(ProductionBatch.Status.ADMIN_REVIEW, 0),
        "cancelled batches": batches.get(ProductionBatch.Status.CANCELLED, 0),
        "nearing-target events": BatchEvent.objects.filter(kind=BatchEvent.Kind.NEARING_TARGET).count(),
        "direct orders": Order.objects.filter(is_batch_order=False).count(),
        "rejected orders": orders.get(Order.Status.REJECTED, 0),
    }


class DemoOrders:
    """The orders of one run, from ``--seed`` and the seeded offers (targets are their MOQs)."""

    def __init__(self, *, count: int, seed: int):
        self.rng = random.Random(seed)
        self.busy = [self.busy_order() for _ in range(count)]
        self.rejected_styles = max(
            SupplierOffer.objects.filter(product_type=REJECTED_PRODUCT, is_active=True).values_list(
                "max_styles", flat=True
            )
        )
        self.rejected = {
            "product_type": REJECTED_PRODUCT,
            "quantity": 10 * self.rejected_styles,
            "style_details": [{"style": style, "color": "black"} for style in STYLES[: self.rejected_styles]],
        }
        self.shaped = self.split(REVIEW_PRODUCT, self.units_at(REVIEW_PRODUCT, self.review_percent()))
        self.shaped += self.split(CANCEL_PRODUCT, self.units_at(CANCEL_PRODUCT, settings.BATCH_REVIEW_FILL_PERCENT / 2))
        direct_quantity = max(
            SupplierOffer.objects.filter(product_type=DIRECT_PRODUCT, is_active=True).values_list("moq", flat=True)
        )
        self.shaped.append(self.order(DIRECT_PRODUCT, direct_quantity))

    @staticmethod
    def review_percent() -> float:
        return (settings.BATCH_NEARING_FILL_PERCENT + settings.BATCH_CONFIRM_FILL_PERCENT) / 2

    @staticmethod
    def units_at(product_type: str, percent: float) -> int:
        """Units that fill the batch a new order of ``product_type`` would open to ``percent``."""
        offer = offer_best(product_type=product_type)
        if offer is None:
            raise CommandError(f"no active offer of {product_type!r}: run `manage.py seed_demo`")
        return math.ceil(offer.moq * percent / 100)

    def order(self, product_type: str, quantity: int) -> dict:
        return {
            "product_type": product_type,
            "quantity": quantity,
            "style_details": [{"style": self.rng.choice(STYLES[:2]), "color": self.rng.choice(COLORS)}],
        }

    def busy_order(self) -> dict:
        product_type = self.rng.choices(list(BUSY_DEMAND), weights=list(BUSY_DEMAND.values()))[0]
        order = self.order(product_type, self.rng.choice([5, 10, 10, 12, 15, 20, 24, 25, 30, 40, 50]))
        order["style_details"][0]["style"] = self.rng.choice(STYLES[:3])
        return order

    def split(self, product_type: str, units: int) -> list[dict]:
        orders = []
        while units > 0:
            quantity = min(units, self.rng.choice([5, 10, 15, 20]))
            orders.append(self.order(product_type, quantity))
            units -= quantity
        return orders


class Command(BaseCommand):
    help = "Simulate buyers, pooling and orchestration on the embedded default, and print a summary."

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders",
            type=int,
            default=2000,
            help=f"small orders to submit over the API (default 2000, at least {MIN_ORDERS})",
        )
        parser.add_argument("--window", type=int, default=20, help="batch window in seconds (default 20)")
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed for the order mix (default {DEFAULT_SEED})"
        )
        parser.add_argument("--timeout", type=int, default=150, help="give up after this many seconds")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="empty the orders and batches even of a database holding data the demo did not create",
        )

    def handle(self, *args, **options):
        self.started = time.monotonic()
        self.procs: list[subprocess.Popen] = []
        self.timeout = options["timeout"]
        if options["orders"] < MIN_ORDERS:
            raise CommandError(f"--orders must be at least {MIN_ORDERS}: fewer may fill no batch")
        try:
            self.run(options)
        finally:
            stop_process_groups(self.procs)

    # --- steps ---------------------------------------------------------------

    def run(self, options):
        if not SupplierOffer.objects.exists():
            raise CommandError("no supplier offers: run `manage.py seed_demo` first (make demo does)")
        if not options["reset"]:
            self.refuse_foreign_data()
        self.step(f"resetting demo data in {settings.DATABASES['default']['NAME']}")
        self.reset()
        orders = DemoOrders(count=options["orders"], seed=options["seed"])

        env = dict(os.environ, SLEEKBATCH_BATCH_WINDOW_SECONDS=str(options["window"]), LOG_LEVEL="WARNING")
        port = free_port()
        log_dir = Path(settings.VAR_DIR) / "demo-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.step(f"starting gunicorn on 127.0.0.1:{port} (logs in {log_dir})")
        self.spawn(
            "web",
            ["gunicorn", "sleekbatch.wsgi", "-c", "sleekbatch/gunicorn_conf.py"],
            dict(env, WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="2"),
            log_dir,
        )
        base_url = f"http://127.0.0.1:{port}"
        self.wait_for(lambda: self.http_ok(f"{base_url}/api/health/"), "the web server")
        tokens = [Token.objects.get_or_create(user=get_user_model().objects.get(username=u))[0].key for u in BUYERS]

        # Before any worker runs: an order the catalogue accepts, then the offer that made it possible
        # changes, so that pooling has to reject it.
        self.step(
            f"{BUYERS[-1]} orders {REJECTED_PRODUCT}s in {orders.rejected_styles} styles; before any worker pools it, "
            f"the {REJECTED_PRODUCT} offers drop to {orders.rejected_styles - 1} styles a batch"
        )
        status = self.post(base_url, tokens[-1], orders.rejected)
        if status != 202:
            raise CommandError(f"the order to be rejected was answered {status}; see {log_dir}/web.log")
        for offer in SupplierOffer.objects.filter(
            product_type=REJECTED_PRODUCT, max_styles__gte=orders.rejected_styles, is_active=True
        ):
            offer.max_styles = orders.rejected_styles - 1
            offer.save(update_fields=["max_styles"])

        self.step("starting a Celery worker; it pools the orders as they arrive")
        self.spawn(
            "worker",
            [
                "celery",
                "-A",
                "sleekbatch",
                "worker",
                "-Q",
                ",".join(settings.TASK_QUEUES),
                "--concurrency",
                "2",
                "-l",
                "warning",
            ],
            env,
            log_dir,
        )
        self.step(f"submitting {len(orders.busy)} orders over POST /api/orders/ as {', '.join(BUYERS)}")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            requests = [(tokens[i % len(tokens)], order) for i, order in enumerate(orders.busy)]
            statuses = Counter(pool.map(lambda request: self.post(base_url, *request), requests))
        elapsed = time.monotonic() - started
        self.step(f"  {dict(statuses)} in {elapsed:.1f}s ({len(orders.busy) / elapsed:.0f} requests/s)")
        if set(statuses) != {202}:
            raise CommandError(f"some submissions failed: {dict(statuses)}; see {log_dir}/web.log")
        self.step(
            f"{BUYERS[0]} sends {len(orders.shaped)} more in one POST /api/orders/bulk/: the {REVIEW_PRODUCT}s "
            f"and {CANCEL_PRODUCT}s of the season and one {DIRECT_PRODUCT} order large enough to go direct"
        )
        status = self.post(base_url, tokens[0], {"orders": orders.shaped}, "/api/orders/bulk/")
        if status != 202:
            raise CommandError(f"the bulk submission was answered {status}; see {log_dir}/web.log")

        self.step("waiting for the worker to pool every order")
        self.wait_for(
            lambda: not Order.objects.filter(workflow_status=Order.Status.SUBMITTED).exists(),
            "orders to leave 'submitted'",
            report=self.pooling_progress,
        )

        window_end = (
            ProductionBatch.objects.order_by("-window_closes_at").values_list("window_closes_at", flat=True).first()
        )
        self.step(f"waiting for the batch windows to close ({options['window']}s each), sweeping every 3s")
        from django.utils import timezone

        from batches.tasks import orchestrate_sweep

        def swept():
            orchestrate_sweep.delay()
            time.sleep(3)
            closed = window_end is None or timezone.now() >= window_end
            return closed and not ProductionBatch.objects.filter(batch_status=ProductionBatch.Status.OPEN).exists()

        self.wait_for(swept, "every batch to be decided", interval=0)
        self.deliver(base_url)
        # The work is done: the processes stop (a warm shutdown, a few seconds) while the summary prints.
        signal_stop(self.procs)
        counts = self.summary()
        self.where_to_look()
        missing = [label for label in OUTCOMES if not counts[label]]
        if missing:
            raise CommandError(f"this run did not show every outcome; missing: {', '.join(missing)}")

    def deliver(self, base_url: str):
        """Each supplier's user acknowledges, ships and delivers its orders over the API; one supplier's
        goods come with 6 % defective, so its defects cross the alert line. Each delivery rescores its
        supplier in the worker."""
        tokens = {
            membership.supplier_id: Token.objects.get_or_create(user=membership.user)[0].key
            for membership in SupplierMembership.objects.select_related("user")
        }
        placed = list(SupplierOrder.objects.filter(status=SupplierOrder.Status.PLACED).select_related("supplier"))
        self.step(f"suppliers acknowledge, ship and deliver {len(placed)} supplier orders over the API")
        statuses = Counter()
        for supplier_order in placed:
            token = tokens[supplier_order.supplier_id]
            defective = supplier_order.quantity * 6 // 100 if supplier_order.supplier.code == DEFECTIVE_SUPPLIER else 0
            for action, body in (
                ("acknowledge", {}),
                ("ship", {}),
                ("deliver", {"delivered_units": supplier_order.quantity, "defective_units": defective}),
            ):
                statuses[self.post(base_url, token, body, f"/api/supplier-orders/{supplier_order.id}/{action}/")] += 1
        if set(statuses) - {200}:
            raise CommandError(f"some supplier-order moves failed: {dict(statuses)}")
        delivered = Counter(supplier_order.supplier_id for supplier_order in placed)
        self.step("waiting for the worker to score each supplier after its deliveries")
        self.wait_for(
            lambda: all(
                supplier_scorecard(supplier_id=supplier_id).scorecard.orders_counted == count
                for supplier_id, count in delivered.items()
            ),
            "the suppliers' scorecards",
        )

    def refuse_foreign_data(self):
        """The demo empties orders and batches: only where it is alone, unless told --reset."""
        if settings.IS_POSTGRES or not settings.CELERY_BROKER_URL.startswith("filesystem://"):
            raise CommandError(
                f"refusing to run on the production profile ({database_label()}): the demo empties every order "
                "and batch. `make demo` runs it in its own folder; pass --reset to empty this database anyway."
            )
        foreign_orders = Order.objects.exclude(buyer__username__in=BUYERS).count()
        foreign_batches = ProductionBatch.objects.exclude(supplier__code__in=DEMO_SUPPLIER_CODES).count()
        if foreign_orders or foreign_batches:
            raise CommandError(
                f"{database_label()} holds {foreign_orders} order(s) and {foreign_batches} batch(es) the demo did not "
                "create, and the demo empties every order and batch. Pass --reset to do it anyway."
            )

    def reset(self):
        Refund.objects.all().delete()
        SupplierAlert.objects.all().delete()
        SupplierScoreSnapshot.objects.all().delete()
        SupplierOrder.objects.all().delete()
        BatchEvent.objects.all().delete()
        BatchContribution.objects.all().delete()
        ProductionBatch.objects.all().delete()
        Order.objects.all().delete()
        # A previous run edited an offer (the rejected order) and scored the suppliers: start again
        # from the seeded offers and unscored suppliers, so that every run is the same.
        Supplier.objects.filter(code__in=DEMO_SUPPLIER_CODES).update(performance_score=None, standing=Standing.NEW)
        call_command("seed_demo", stdout=io.StringIO())

    def summary(self):
        elapsed = time.monotonic() - self.started
        out = self.stdout.write
        out("")
        out(self.style.MIGRATE_HEADING(f"sleekbatch demo — done in {elapsed:.0f}s"))
        out("Orders by status:")
        for row in (
            Order.objects.values("workflow_status")
            .annotate(n=Count("id"), qty=Sum("quantity"))
            .order_by("workflow_status")
        ):
            out(f"  {row['workflow_status']:<10} {row['n']:>6} orders  {row['qty']:>7} units")
        direct = Order.objects.filter(is_batch_order=False).count()
        out(f"  (direct orders with their own supplier order: {direct})")
        out("Batches by decision:")
        for row in ProductionBatch.objects.values("batch_status").annotate(n=Count("id")).order_by("batch_status"):
            out(f"  {row['batch_status']:<13} {row['n']:>4}")
        out("Batches by product type and decision (fill range):")
        rows = (
            ProductionBatch.objects.values("product_type", "batch_status")
            .annotate(n=Count("id"), low=Min("fill_basis_points"), high=Max("fill_basis_points"))
            .order_by("product_type", "batch_status")
        )
        for row in rows:
            out(
                f"  {row['product_type']:<7} {row['batch_status']:<13} {row['n']:>4} batches  "
                f"{row['low'] / 100:6.2f}% – {row['high'] / 100:6.2f}%"
            )
        undecided = ProductionBatch.objects.exclude(batch_status=ProductionBatch.Status.CONFIRMED)
        for batch in undecided.select_related("supplier").annotate(orders=Count("contributions")):
            out(
                f"  → {batch.batch_status:<13} {batch.product_type:<7} {batch.supplier.name:<14} "
                f"{batch.current_quantity}/{batch.target_quantity} ({batch.fill_percent}%), {batch.orders} orders"
            )
        out(
            f"Supplier orders placed: {SupplierOrder.objects.count()}; refunds issued: {Refund.objects.count()}"
            f" ({Decimal(Refund.objects.aggregate(total=Sum('amount'))['total'] or 0):.2f} refunded)"
        )
        out("Supplier scorecards (from their deliveries):")
        suppliers = list(Supplier.objects.order_by("name"))
        cards = suppliers_scorecards(supplier_ids=[supplier.id for supplier in suppliers])
        for supplier in suppliers:
            card = cards[supplier.id].scorecard
            score = "  —  " if card.score is None else f"{card.score:5.1f}"
            ppm = "—" if card.defect_ppm is None else f"{card.defect_ppm:,}"
            out(
                f"  {supplier.name:<14} {score}  {card.standing.value:<9} {card.orders_counted:>3} deliveries, "
                f"on time {card.on_time_rate or 0:.0%}, defects {ppm} ppm"
            )
        for alert in supplier_alerts_open():
            out(f"  alert: {alert.message} (mailed to the ops users: var/demo/mail/)")
        out("Daily rollup (what beat runs hourly; called by name, analytics sits above batches):")
        call_command("rollup_daily", show=True, stdout=self.stdout)
        counts = outcome_counts()
        out("Every outcome of the run:")
        for label in OUTCOMES:
            out(f"  {label:<24} {counts[label]:>5}")
        for reason in (
            Order.objects.filter(workflow_status=Order.Status.REJECTED)
            .values_list("rejection_reason", flat=True)
            .distinct()
        ):
            out(f"  rejected: {reason}")
        return counts

    def where_to_look(self):
        """Where the result can be seen: the demo's own servers are gone, `make up` serves its data."""
        out = self.stdout.write
        var_dir = Path(settings.VAR_DIR)
        with contextlib.suppress(ValueError):
            var_dir = var_dir.relative_to(ROOT)  # a relative SLEEKBATCH_VAR_DIR is taken from the repository
        review = ProductionBatch.objects.filter(batch_status=ProductionBatch.Status.ADMIN_REVIEW).count()
        out("")
        out(self.style.MIGRATE_HEADING("Look at the result"))
        out(f"  serve this demo's data:  SLEEKBATCH_VAR_DIR={var_dir} make up   (Ctrl-C stops it)")
        out("  then open")
        out("    http://127.0.0.1:8000/                         landing page")
        out("    http://127.0.0.1:8000/admin/                   admin (ops / ops)")
        out(
            f"    http://127.0.0.1:8000/admin/batches/batchinreview/   review queue: {review} batch(es) to decide"
            " (ops / ops)"
        )
        out("    http://127.0.0.1:8000/ops/dashboard/           ops dashboard (ops / ops)")
        out("    http://127.0.0.1:8000/api/docs/                API docs (Swagger UI; /api/redoc/ for Redoc)")
        out("    http://127.0.0.1:8000/api-auth/login/          browsable API login (buyer1 / buyer1)")
        out("    http://127.0.0.1:5555/                         Flower (ops / ops)")
        out(
            f"  logins (password = username): {', '.join(u for u, _ in DEMO_USERS)}; suppliers "
            f"{', '.join(u for u, _ in DEMO_SUPPLIER_USERS)}"
        )
        out(f"  mails the demo sent (buyer notifications, supplier alerts): {var_dir / 'mail'}/")

    # --- plumbing --------------------------------------------------------------

    def step(self, message: str):
        self.stdout.write(f"[{time.monotonic() - self.started:5.1f}s] {message}")

    def pooling_progress(self):
        counts = dict(Order.objects.values_list("workflow_status").annotate(n=Count("id")))
        return f"orders: {counts}"

    def spawn(self, name: str, argv: list[str], env: dict, log_dir: Path):
        bin_dir = Path(sys.executable).parent
        log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - lives as long as the process
        self.procs.append(
            subprocess.Popen(
                [str(bin_dir / argv[0]), *argv[1:]],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def wait_for(self, predicate, what: str, interval: float = 0.5, report=None):
        last_report = time.monotonic()
        while time.monotonic() - self.started < self.timeout:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise CommandError(f"a demo process exited early ({proc.args[0]}); see var/demo-logs/")
            if predicate():
                return
            if report and time.monotonic() - last_report > 5:
                self.step(f"  {report()}")
                last_report = time.monotonic()
            time.sleep(interval)
        raise CommandError(f"timed out waiting for {what}")

    @staticmethod
    def http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    @staticmethod
    def post(base_url: str, token: str, payload: dict, path: str = "/api/orders/") -> int:
        request = urllib.request.Request(
            f"{base_url}{path}",
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
