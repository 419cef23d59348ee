"""Reads of reports: which report requests a user may see."""

import uuid

from django.db.models import QuerySet

from analytics.reports.models import Report
from sleekbatch.roles import OPS, has_role


def reports_visible_to(*, user) -> QuerySet[Report]:
    """Ops see every report; anyone else only the reports they requested."""
    reports = Report.objects.select_related("supplier", "requested_by")
    if has_role(user, OPS):
        return reports
    return reports.filter(requested_by=user)


def report_get(*, user, report_id: uuid.UUID) -> Report | None:
    return reports_visible_to(user=user).filter(pk=report_id).first()
