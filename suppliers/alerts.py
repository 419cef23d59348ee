"""Supplier alerts: opened once when a supplier crosses a line, closed when it comes back.

Three lines: the standing drops (from the standing it had before this run), the on-time rate
falls under SUPPLIER_ALERT_ON_TIME_BELOW, defects rise over SUPPLIER_ALERT_DEFECT_PPM_ABOVE.
Only suppliers with a score are judged (a "new" supplier's two deliveries say little). An open
alert stays open, without a second mail, until its recovery: the standing back to where it
dropped from, the rate back over / the ppm back under its threshold.
"""

import logging
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone

from sleekbatch import sql
from sleekbatch.roles import OPS
from suppliers.models import Supplier, SupplierAlert
from suppliers.scoring import Scorecard, Standing

logger = logging.getLogger(__name__)

Kind = SupplierAlert.Kind


def _crossings(previous: Standing, card: Scorecard) -> dict[str, tuple[float, float]]:
    """The lines this scorecard is past: kind → (measured value, threshold)."""
    if card.standing is Standing.NEW:
        return {}
    past: dict[str, tuple[float, float]] = {}
    if previous.rank is not None and card.standing.rank < previous.rank:
        past[Kind.STANDING_DROPPED] = (card.standing.rank, previous.rank)
    on_time_below = settings.SUPPLIER_ALERT_ON_TIME_BELOW
    if card.on_time_rate is not None and card.on_time_rate < on_time_below:
        past[Kind.ON_TIME_LOW] = (card.on_time_rate, on_time_below)
    ppm_above = settings.SUPPLIER_ALERT_DEFECT_PPM_ABOVE
    if card.defect_ppm is not None and card.defect_ppm > ppm_above:
        past[Kind.DEFECTS_HIGH] = (card.defect_ppm, ppm_above)
    return past


def _recovered(alert: SupplierAlert, card: Scorecard) -> bool:
    if card.standing is Standing.NEW:
        return False  # too little data to say it recovered
    if alert.kind == Kind.STANDING_DROPPED:
        return card.standing.rank >= alert.threshold
    if alert.kind == Kind.ON_TIME_LOW:
        return card.on_time_rate is not None and card.on_time_rate >= settings.SUPPLIER_ALERT_ON_TIME_BELOW
    return card.defect_ppm is not None and card.defect_ppm <= settings.SUPPLIER_ALERT_DEFECT_PPM_ABOVE


_RANK_NAMES = {standing.rank: standing.value for standing in Standing if standing.rank is not None}


def _message(name: str, kind: str, value: float, threshold: float) -> str:
    if kind == Kind.STANDING_DROPPED:
        return f"{name}: standing dropped from {_RANK_NAMES[int(threshold)]} to {_RANK_NAMES[int(value)]}"
    if kind == Kind.ON_TIME_LOW:
        return f"{name}: on-time rate {value:.0%} is under {threshold:.0%}"
    return f"{name}: {value:,.0f} defective parts per million is over {threshold:,.0f}"


def alerts_evaluate(
    *, previous_standings: Mapping[int, str], cards: Mapping[int, Scorecard], now: datetime
) -> tuple[list[int], int]:
    """Open the alerts newly crossed and close the recovered ones: (ids opened, how many closed).

    Runs inside the scoring transaction, under its lock (suppliers.scorecard); the scoring task
    has ``alerts_notify`` mail ops about the opened ones once that transaction has committed.
    """
    open_alerts: dict[tuple[int, str], SupplierAlert] = {
        (alert.supplier_id, alert.kind): alert
        for alert in SupplierAlert.objects.filter(supplier_id__in=list(cards), closed_at__isnull=True)
    }
    to_close = [
        alert.id for (supplier_id, _kind), alert in open_alerts.items() if _recovered(alert, cards[supplier_id])
    ]
    crossings = {
        supplier_id: past
        for supplier_id, card in cards.items()
        if (past := _crossings(Standing(previous_standings[supplier_id]), card))
    }
    names = dict(Supplier.objects.filter(id__in=list(crossings)).values_list("id", "name")) if crossings else {}
    new_alerts = [
        (supplier_id, kind, value, threshold)
        for supplier_id, past in crossings.items()
        for kind, (value, threshold) in past.items()
        if (supplier_id, kind) not in open_alerts
    ]
    closed = SupplierAlert.objects.filter(id__in=to_close, closed_at__isnull=True).update(closed_at=now)
    opened = sql.insert_columns(
        SupplierAlert,
        columns={
            "supplier_id": [row[0] for row in new_alerts],
            "kind": [str(row[1]) for row in new_alerts],
            "value": [float(row[2]) for row in new_alerts],
            "threshold": [float(row[3]) for row in new_alerts],
            "message": [_message(names[row[0]], *row[1:])[:300] for row in new_alerts],
        },
        constants={"opened_at": now},
    )
    if opened:
        logger.info("supplier_alerts.opened", extra={"alerts": len(opened)})
    return opened, closed


def ops_mail_recipients() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name=OPS).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def alerts_notify(*, alert_ids: list[int]) -> int:
    """One mail to the ops users listing the alerts not mailed yet; returns how many it listed."""
    pending = list(
        SupplierAlert.objects.filter(id__in=alert_ids, notified_at__isnull=True).order_by("supplier__name", "kind")
    )
    if not pending:
        return 0
    recipients = ops_mail_recipients()
    if recipients:
        lines = "\n".join(f"- {alert.message}" for alert in pending)
        subject = f"[sleekbatch] {len(pending)} supplier alert{'s' if len(pending) != 1 else ''}"
        body = f"{lines}\n\nOpen alerts are listed in the admin under Suppliers › Supplier alerts.\n"
        send_mail(subject, body, settings.SERVER_EMAIL, recipients)
    else:
        logger.warning("supplier_alerts.no_recipients", extra={"alerts": len(pending)})
    SupplierAlert.objects.filter(id__in=[alert.id for alert in pending]).update(notified_at=timezone.now())
    return len(pending)
