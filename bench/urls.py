"""The project's URLs plus the view the page benchmarks measure against (benchmarks only).

`bench/bare/` goes through the same middleware and the same login check as the owner's pages and
answers two bytes, so a page's ratio to it is what the page itself costs, not what every request
costs.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from backupapp.urls import urlpatterns as project_urlpatterns


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/bare/", bare, name="bench-bare"),
    *project_urlpatterns,
]
