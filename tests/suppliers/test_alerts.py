"""Supplier alerts: once per crossing, closed on recovery, mailed to the ops users once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from sleekbatch.roles import OPS, assign_role
from suppliers.alerts import alerts_notify
from suppliers.models import SupplierAlert, SupplierOrder
from suppliers.scorecard import suppliers_score
from tests.factories import UserFactory
from tests.suppliers.conftest import delivered_order

pytestmark = pytest.mark.django_db

Kind = SupplierAlert.Kind


@pytest.fixture
def alert_lines(settings):
    settings.SUPPLIER_ALERT_ON_TIME_BELOW = 0.8
    settings.SUPPLIER_ALERT_DEFECT_PPM_ABOVE = 20_000
    settings.SUPPLIER_SCORE_MIN_DELIVERIES = 3


def _deliveries(supplier, count, **facts):
    return [delivered_order(supplier, **facts) for _ in range(count)]


def _open(supplier):
    return sorted(
        SupplierAlert.objects.filter(supplier=supplier, closed_at__isnull=True).values_list("kind", flat=True)
    )


def test_a_supplier_falling_under_the_on_time_line_gets_one_alert_however_often_scoring_runs(dhaka, alert_lines):
    # given: 5 on time, then 2 late: 5/7 = 71 % on time
    _deliveries(dhaka, 5)
    suppliers_score()
    _deliveries(dhaka, 2, days_late=4)

    # when
    runs = [suppliers_score() for _ in range(3)]

    # then
    assert [run.alerts_opened for run in runs] == [1, 0, 0]
    assert _open(dhaka) == [Kind.ON_TIME_LOW]
    alert = SupplierAlert.objects.get()
    assert alert.value == pytest.approx(5 / 7) and alert.threshold == 0.8
    assert "on-time rate 71% is under 80%" in alert.message


def test_recovery_closes_the_alert_and_a_new_crossing_opens_a_new_one(dhaka, alert_lines):
    # given: an open on-time alert (2 of 4 late)
    _deliveries(dhaka, 2)
    late = _deliveries(dhaka, 2, days_late=3)
    suppliers_score()
    assert _open(dhaka) == [Kind.ON_TIME_LOW]

    # when: the late deliveries fall out of the window, so the rate recovers
    SupplierOrder.objects.filter(id__in=[o.id for o in late]).update(delivered_at=timezone.now() - timedelta(days=200))
    _deliveries(dhaka, 2)
    recovered = suppliers_score()

    # then
    assert recovered.alerts_closed == 1
    assert _open(dhaka) == []
    assert SupplierAlert.objects.get().closed_at is not None

    # and when it crosses again, that is a second alert
    _deliveries(dhaka, 4, days_late=5)
    suppliers_score()
    assert SupplierAlert.objects.filter(supplier=dhaka).count() == 2
    assert _open(dhaka) == [Kind.ON_TIME_LOW]


def test_defects_over_the_line_open_an_alert(dhaka, alert_lines):
    # given: 3 × 100 units with 9 defective = 30,000 ppm
    _deliveries(dhaka, 3, defective_units=3)

    # when
    suppliers_score()

    # then
    assert _open(dhaka) == [Kind.DEFECTS_HIGH]
    assert SupplierAlert.objects.get().value == 30_000


def test_a_drop_in_standing_alerts_until_it_is_back_where_it_was(dhaka, alert_lines, settings):
    # given: excellent (every part perfect); only the standing can raise an alert here
    settings.SUPPLIER_ALERT_ON_TIME_BELOW = 0
    settings.SUPPLIER_ALERT_DEFECT_PPM_ABOVE = 10**6
    _deliveries(dhaka, 3)
    suppliers_score()
    dhaka.refresh_from_db()
    assert dhaka.standing == "excellent"

    # when: three more, late and short: on time 50 % (20 of 40), fill 92.5 % (18.5 of 20) → 78.5
    late = _deliveries(dhaka, 3, days_late=9, delivered_units=85)
    suppliers_score()
    dhaka.refresh_from_db()

    # then
    assert dhaka.standing == "good"
    alert = SupplierAlert.objects.get(kind=Kind.STANDING_DROPPED)
    assert alert.message.endswith("standing dropped from excellent to good")
    assert suppliers_score().alerts_opened == 0  # still good: no second alert

    # and when the late ones leave the window, it is excellent again and the alert closes
    SupplierOrder.objects.filter(id__in=[o.id for o in late]).update(delivered_at=timezone.now() - timedelta(days=200))
    suppliers_score()
    alert.refresh_from_db()
    assert alert.closed_at is not None


def test_new_suppliers_raise_no_alerts(dhaka, alert_lines):
    _deliveries(dhaka, 2, days_late=10, defective_units=50)
    assert suppliers_score().alerts_opened == 0


def test_ops_users_get_one_mail_per_new_alert_batch_and_never_twice(dhaka, porto, alert_lines):
    # given
    olga = UserFactory(username="olga", email="olga@example.com")
    assign_role(olga, OPS)
    UserFactory(username="nobody", email="nobody@example.com")  # not ops: not mailed
    _deliveries(dhaka, 3, days_late=5)
    _deliveries(porto, 3, defective_units=10)
    run = suppliers_score()

    # when
    listed = alerts_notify(alert_ids=list(run.opened_alert_ids))
    again = alerts_notify(alert_ids=list(run.opened_alert_ids))

    # then
    assert (listed, again) == (2, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olga@example.com"]
    assert "2 supplier alerts" in message.subject
    assert "Dhaka Knits: on-time rate 0% is under 80%" in message.body
    assert "Porto Têxtil: 100,000 defective parts per million is over 20,000" in message.body
    assert not SupplierAlert.objects.filter(notified_at__isnull=True).exists()


def test_the_ops_dashboard_lists_open_alerts(dhaka, alert_lines, olivia, api_client_for):
    # given: one open alert, one recovered
    _deliveries(dhaka, 3, days_late=5)
    suppliers_score()
    SupplierAlert.objects.create(
        supplier=dhaka,
        kind=Kind.DEFECTS_HIGH,
        message="old",
        threshold=1,
        opened_at=timezone.now(),
        closed_at=timezone.now(),
    )

    # when
    data = api_client_for(olivia).get("/api/analytics/dashboard/").json()

    # then
    assert [(row["supplier"], row["message"]) for row in data["supplier_alerts"]] == [
        ("Dhaka Knits", "Dhaka Knits: on-time rate 0% is under 80%")
    ]
