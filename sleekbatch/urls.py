from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from sleekbatch.health import health
from sleekbatch.landing import landing

urlpatterns = [
    path("", landing, name="landing"),
    path("admin/", admin.site.urls),
    path("api/health/", health, name="health"),
    path("", include("analytics.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    # DRF's login, so a buyer can use the browsable API with their password.
    path("api-auth/", include("rest_framework.urls")),
    path("api/", include("orders.api.urls")),
    path("api/", include("batches.api.urls")),
    path("api/", include("analytics.api.urls")),
    path("api/", include("suppliers.api.urls")),
    path("api/", include("analytics.reports.urls")),
]

# JSON under /api/, Django's pages elsewhere (sleekbatch/api_errors.py).
handler400 = "sleekbatch.api_errors.bad_request"
handler403 = "sleekbatch.api_errors.permission_denied"
handler404 = "sleekbatch.api_errors.page_not_found"
handler500 = "sleekbatch.api_errors.server_error"

if settings.BENCH_VIEWS:  # make bench's API ceiling; off unless SLEEKBATCH_BENCH_VIEWS (see settings)
    urlpatterns.append(path("", include("bench.ceiling")))
