"""The ops dashboard page: a shell that draws its charts from /api/analytics/dashboard/."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from sleekbatch.roles import OPS, has_role

REFRESH_SECONDS = 15


def ops_dashboard(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not has_role(request.user, OPS):
        raise PermissionDenied("Only operations staff can see the dashboard.")
    context = {
        **admin.site.each_context(request),
        "title": "Operations dashboard",
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "analytics/dashboard.html", context)
