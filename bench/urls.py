"""The project's URLs plus two views the page benchmarks measure against (benchmarks only).

`bench/bare/` goes through the same middleware and the same login check as the owner's pages and
answers two bytes, so a page's ratio to it is what the page itself costs, not what every request
costs. `bench/stamp-poll/<site>/` sketches the cheap "nothing changed" answer bench/README.md
proposes for the live fragments: one indexed query decides it. It is not the product's code.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from backupapp.urls import urlpatterns as project_urlpatterns
from sites.models import Site


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def stamp_poll(request: HttpRequest, site_id: Any) -> HttpResponse:
    stamp = (
        Site.objects.filter(pk=site_id, owner=request.user)
        .values_list("last_synced_at", flat=True)
        .first()
    )
    if stamp is None:
        raise Http404
    if request.GET.get("v") == f"{stamp.timestamp():.6f}":
        return HttpResponse(status=204)
    return HttpResponse(f"{stamp.timestamp():.6f}", content_type="text/plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/stamp-poll/<uuid:site_id>/", stamp_poll, name="bench-stamp-poll"),
    *project_urlpatterns,
]
