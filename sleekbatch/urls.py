from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from sleekbatch.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health/", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include("orders.api.urls")),
    path("api/", include("batches.api.urls")),
    path("api/", include("analytics.api.urls")),
]
