"""Who may read /metrics: operations staff, or the Prometheus scraper with its bearer token."""

import hmac

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from sleekbatch.roles import OPS, has_role

SCRAPER = "metrics-scraper"


class MetricsScraper:
    """The principal a valid scraper token authenticates: no user, no roles, reads /metrics only."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    pk = None
    username = SCRAPER

    def __str__(self):
        return SCRAPER


class ScraperTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <SLEEKBATCH_METRICS_TOKEN>``; other schemes are left to the next class."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        expected = settings.METRICS_SCRAPE_TOKEN.encode()
        if len(parts) != 2 or not expected or not hmac.compare_digest(parts[1], expected):
            raise AuthenticationFailed("Invalid scraper token.")
        return MetricsScraper(), SCRAPER

    def authenticate_header(self, request):
        return 'Bearer realm="metrics"'


class IsOpsOrScraper(BasePermission):
    message = "Only operations staff and the metrics scraper can do this."

    def has_permission(self, request, view):
        return request.auth == SCRAPER or has_role(request.user, OPS)


class ScraperTokenScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the scraper's ``Authorization: Bearer …`` (registered by being defined)."""

    target_class = ScraperTokenAuthentication
    name = "scraperToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
