"""Reads for suppliers: who acts for a supplier, what a user may see, scorecards, alerts, offers' lead times."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from sleekbatch.roles import OPS, SUPPLIER, has_role
from suppliers.models import (
    Supplier,
    SupplierAlert,
    SupplierMembership,
    SupplierOffer,
    SupplierOrder,
    SupplierScoreSnapshot,
)
from suppliers.scoring import Scorecard, Standing


def supplier_id_for_user(user) -> int | None:
    """The supplier a supplier user belongs to, or None (no membership, anonymous)."""
    if not user or not user.is_authenticated:
        return None
    return SupplierMembership.objects.filter(user_id=user.pk).values_list("supplier_id", flat=True).first()


def suppliers_visible_to(user) -> QuerySet[Supplier]:
    """Every supplier for ops; a supplier user's own supplier; nothing for anyone else."""
    if has_role(user, OPS):
        return Supplier.objects.all()
    if has_role(user, SUPPLIER):
        return Supplier.objects.filter(memberships__user_id=user.pk)
    return Supplier.objects.none()


def supplier_orders_visible_to(user) -> QuerySet[SupplierOrder]:
    """Every supplier order for ops; a supplier user's own supplier's; nothing for anyone else."""
    queryset = SupplierOrder.objects.select_related("supplier")
    if has_role(user, OPS):
        return queryset
    if has_role(user, SUPPLIER):
        return queryset.filter(supplier__memberships__user_id=user.pk)
    return queryset.none()


@dataclass(frozen=True)
class CurrentScorecard:
    """A supplier's scorecard as its last scoring run left it: what the API, the admin, the
    dashboard and the reports all show (from suppliers_scorecards, so they never disagree)."""

    supplier_id: int
    day: date | None  # None: never scored
    computed_at: datetime | None
    window_days: int | None
    scorecard: Scorecard


def _card(snapshot: SupplierScoreSnapshot) -> Scorecard:
    return Scorecard(
        on_time_rate=snapshot.on_time_rate,
        defect_ppm=snapshot.defect_ppm,
        fill_rate=snapshot.fill_rate,
        acknowledge_hours_p50=snapshot.acknowledge_hours_p50,
        lead_time_days_mean=snapshot.lead_time_days_mean,
        lead_time_days_stdev=snapshot.lead_time_days_stdev,
        orders_counted=snapshot.orders_counted,
        score=snapshot.score,
        standing=Standing(snapshot.standing),
    )


_NEVER_SCORED = Scorecard(
    on_time_rate=None,
    defect_ppm=None,
    fill_rate=None,
    acknowledge_hours_p50=None,
    lead_time_days_mean=None,
    lead_time_days_stdev=None,
    orders_counted=0,
    score=None,
    standing=Standing.NEW,
)


def suppliers_scorecards(*, supplier_ids: Iterable[int], as_of: date | None = None) -> dict[int, CurrentScorecard]:
    """The current scorecard of each supplier: its latest snapshot (one query for any number).

    ``as_of``: the scorecard as it stood on that day instead (its latest snapshot on or before it),
    as a report over a past period shows it.
    """
    ids = list(supplier_ids)
    snapshots_so_far = SupplierScoreSnapshot.objects.filter(supplier_id=OuterRef("supplier_id"))
    if as_of is not None:
        snapshots_so_far = snapshots_so_far.filter(day__lte=as_of)
    latest_day = snapshots_so_far.order_by("-day").values("day")[:1]
    snapshots = SupplierScoreSnapshot.objects.filter(supplier_id__in=ids, day=Subquery(latest_day))
    found = {
        snapshot.supplier_id: CurrentScorecard(
            supplier_id=snapshot.supplier_id,
            day=snapshot.day,
            computed_at=snapshot.computed_at,
            window_days=snapshot.window_days,
            scorecard=_card(snapshot),
        )
        for snapshot in snapshots
    }
    return {
        supplier_id: found.get(supplier_id)
        or CurrentScorecard(
            supplier_id=supplier_id, day=None, computed_at=None, window_days=None, scorecard=_NEVER_SCORED
        )
        for supplier_id in ids
    }


def supplier_scorecard(*, supplier_id: int) -> CurrentScorecard:
    return suppliers_scorecards(supplier_ids=[supplier_id])[supplier_id]


def supplier_score_history(*, supplier_id: int, days: int, today: date | None = None) -> list[SupplierScoreSnapshot]:
    """The supplier's daily snapshots of the last ``days`` days (today included), oldest first."""
    today = today or timezone.localdate()
    return list(
        SupplierScoreSnapshot.objects.filter(supplier_id=supplier_id, day__gt=today - timedelta(days=days)).order_by(
            "day"
        )
    )


def supplier_alerts_open() -> QuerySet[SupplierAlert]:
    """Alerts not yet recovered, newest first (the admin list and the dashboard)."""
    return SupplierAlert.objects.filter(closed_at__isnull=True).select_related("supplier").order_by("-opened_at")


def supplier_offer_lead_times(*, offer_ids) -> dict[int, int]:
    """``{offer id: lead_time_days}`` for these offers (one query)."""
    return dict(SupplierOffer.objects.filter(id__in=set(offer_ids)).values_list("id", "lead_time_days"))
