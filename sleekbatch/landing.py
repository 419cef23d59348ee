"""The landing page at ``/``: where to go next, for operations staff and for everyone else.

Apps above this one add their own links (the review queue, the dashboard) from their
AppConfig.ready() with ``landing_link_add``, so this module imports none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse

from sleekbatch.roles import OPS, has_role


@dataclass(frozen=True)
class LandingLink:
    title: str
    url: str | Callable[[], str]
    description: str
    ops_only: bool = True
    # A figure shown beside the link, such as the review queue's length.
    count: Callable[[], int] | None = None
    position: int = 50


_LINKS: dict[str, LandingLink] = {}


def landing_link_add(link: LandingLink) -> None:
    _LINKS[link.title] = link


def _built_in_links() -> list[LandingLink]:
    return [
        LandingLink("Admin", "/admin/", "Orders, refunds, batches, suppliers and offers, job runs.", position=30),
        LandingLink(
            "Flower", settings.FLOWER_URL, "Celery workers, queues and tasks (its own basic-auth login).", position=40
        ),
        LandingLink(
            "API docs (Swagger UI)",
            "/api/docs/",
            "Every endpoint, tried out in the browser.",
            ops_only=False,
            position=60,
        ),
        LandingLink(
            "API reference (Redoc)", "/api/redoc/", "The same schema, for reading.", ops_only=False, position=61
        ),
    ]


def _resolved(link: LandingLink, *, with_count: bool) -> dict:
    url = link.url() if callable(link.url) else link.url
    count = link.count() if with_count and link.count is not None else None
    return {"title": link.title, "url": url, "description": link.description, "count": count}


def landing(request):
    is_ops = has_role(request.user, OPS)
    links = sorted([*_built_in_links(), *_LINKS.values()], key=lambda link: link.position)
    shown = [_resolved(link, with_count=is_ops) for link in links if is_ops or not link.ops_only]
    context = {
        "links": shown,
        "is_ops": is_ops,
        "user": request.user,
        "api_login": f"{reverse('rest_framework:login')}?next=/api/orders/",
        "admin_login": f"{reverse('admin:login')}?next=/",
    }
    return render(request, "sleekbatch/landing.html", context)
