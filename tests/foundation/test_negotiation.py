"""The API's content negotiation answers exactly as DRF's, shortcut or not."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from sleekbatch.negotiation import JSONFirstContentNegotiation

RENDERERS = [JSONRenderer(), BrowsableAPIRenderer()]


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "", "text/html", "application/json; indent=4", "text/html,*/*;q=0.8"],
)
@pytest.mark.parametrize("query", ["", "?format=api", "?format=json"])
def test_it_chooses_the_renderer_drf_would(accept, query):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().post(f"/api/orders/{query}", **headers))

    assert outcome(JSONFirstContentNegotiation(), request) == outcome(DefaultContentNegotiation(), request)


def outcome(negotiation, request):
    try:
        renderer, media_type = negotiation.select_renderer(request, RENDERERS)
    except NotAcceptable:
        return "406"
    return type(renderer), media_type
