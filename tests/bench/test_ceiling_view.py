"""The bare INSERT view the api phase measures as its ceiling, and the flag that mounts it."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from bench.ceiling import CEILING_BUYER, CEILING_PATH
from orders.models import Order

ROOT = Path(__file__).resolve().parents[2]
BODY = {"product_type": "tee", "quantity": 12, "style_details": [{"style": "classic", "color": "black"}]}


@pytest.mark.django_db
@pytest.mark.urls("tests.bench.ceiling_urls")
def test_it_inserts_one_submitted_order_per_post(client):
    # when
    response = client.post(f"/{CEILING_PATH}", data=json.dumps(BODY), content_type="application/json")

    # then
    assert response.status_code == 201
    order = Order.objects.get()
    assert str(order.id) == response.json()["id"]
    assert order.buyer.username == CEILING_BUYER
    assert (order.product_type, order.quantity, order.style_details) == ("tee", 12, BODY["style_details"])
    assert order.workflow_status == Order.Status.SUBMITTED


@pytest.mark.django_db
@pytest.mark.urls("tests.bench.ceiling_urls")
@pytest.mark.parametrize("body", ["{not json", json.dumps({"quantity": 12}), json.dumps({**BODY, "quantity": "x"})])
def test_it_answers_a_bad_body_with_400_and_stores_nothing(client, body):
    # when
    response = client.post(f"/{CEILING_PATH}", data=body, content_type="application/json")

    # then
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Order.objects.exists()


def test_the_project_does_not_mount_it_without_the_flag():
    with pytest.raises(Resolver404):
        resolve(f"/{CEILING_PATH}")


def test_the_settings_refuse_the_flag_outside_a_bench_database():
    # given
    env = dict(
        os.environ,
        SLEEKBATCH_BENCH_VIEWS="1",
        DJANGO_SETTINGS_MODULE="sleekbatch.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    env.pop("DATABASE_URL", None)  # the embedded SQLite database, named sleekbatch.sqlite3
    command = [sys.executable, "-c", "import django; django.setup()"]

    # when
    refused = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    allowed = subprocess.run(
        command,
        cwd=ROOT,
        env=dict(env, DATABASE_URL="postgres://postgres@127.0.0.1:5432/sleekbatch_bench"),
        capture_output=True,
        text=True,
        check=False,
    )

    # then
    assert refused.returncode != 0
    assert "only on a *bench* database" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
