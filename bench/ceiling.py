"""The API ceiling: a bare Django view that parses the JSON body and INSERTs one order row.

It is what a single-order POST costs on this stack with nothing above the INSERT (no DRF,
authentication, validation, throttling or pooling trigger), so the api phase can say how
close POST /api/orders/ comes to it. It is mounted only when SLEEKBATCH_BENCH_VIEWS is on,
which the settings refuse outside a database named *bench*: it writes orders for one fixed
buyer without asking who is calling.
"""

from __future__ import annotations

import json
from functools import cache

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

CEILING_PATH = "bench/ceiling/orders/"
CEILING_BUYER = "bench-ceiling"


@cache
def _ceiling_buyer_id() -> int:
    from django.contrib.auth import get_user_model

    buyer, _ = get_user_model().objects.get_or_create(username=CEILING_BUYER)
    return buyer.pk


@csrf_exempt
@require_POST
def order_insert_ceiling(request):
    from orders.models import Order

    try:
        body = json.loads(request.body)
        order = Order.objects.create(
            buyer_id=_ceiling_buyer_id(),
            product_type=str(body["product_type"]),
            quantity=int(body["quantity"]),
            style_details=body["style_details"],
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "expected product_type, quantity and style_details"}, status=400)
    return JsonResponse({"id": str(order.id), "workflow_status": order.workflow_status}, status=201)


urlpatterns = [path(CEILING_PATH, order_insert_ceiling, name="bench-ceiling-orders")]
