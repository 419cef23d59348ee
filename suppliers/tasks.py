"""Supplier tasks: thin adapters over suppliers.scorecard and suppliers.alerts (queue ``analytics``)."""

from celery import shared_task

from sleekbatch.tasks import RETRY_POLICY
from suppliers.alerts import alerts_notify
from suppliers.scorecard import ScoringRun, suppliers_score


def _notify(run: ScoringRun) -> dict:
    # The scoring transaction has committed: the alerts exist for the mail task to read.
    if run.opened_alert_ids:
        notify_supplier_alerts.delay(list(run.opened_alert_ids))
    return run.counts()


@shared_task(name="suppliers.score_all", **RETRY_POLICY)
def score_all_suppliers() -> dict:
    """Run by beat every night: every supplier's scorecard, snapshot and alerts."""
    return _notify(suppliers_score())


@shared_task(name="suppliers.score_supplier", **RETRY_POLICY)
def score_supplier(supplier_id: int) -> dict:
    """Enqueued on commit of each delivery: that supplier's scorecard, snapshot and alerts."""
    return _notify(suppliers_score(supplier_ids=[supplier_id]))


@shared_task(name="suppliers.notify_alerts", **RETRY_POLICY)
def notify_supplier_alerts(alert_ids: list[int]) -> int:
    """Mail the ops users about newly opened supplier alerts (each alert is mailed once)."""
    return alerts_notify(alert_ids=alert_ids)
