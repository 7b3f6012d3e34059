"""The pipeline every emulated Wix API call runs (`wix_endpoint`): method check, authentication,
the site's injected faults, then the work inside one transaction holding the site's lock (rate
limit, catch-up of derived state, the handler), then the request log and `X-Wix-Request-Id`.
Whatever goes wrong becomes a Wix-style error body; nothing reaches Django's 500 page.
"""

import logging
import random
import secrets
import socket
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .. import services
from ..models import EmuApiKey, EmuRequestLog, EmuSite, EmuToken
from ..services import EmuApiError

logger = logging.getLogger("wixemulator.api")

BACKUPS = "backups"
DATA = "data"
SCOPES = {
    BACKUPS: "SCOPE.DC-DATA.MANAGE-BACKUPS",
    DATA: "SCOPE.DC-DATA.READ and SCOPE.DC-DATA.WRITE",
}
# The Backups API says RESOURCE_EXHAUSTED; Wix Data says WDE0014 (quota exceeded).
RATE_LIMIT_CODES = {BACKUPS: "RESOURCE_EXHAUSTED", DATA: "WDE0014"}
# The request log is pruned of rows older than this, now and then, so it never grows unbounded.
LOG_RETENTION = timedelta(hours=6)

Handler = Callable[..., dict[str, Any]]


def request_id() -> str:
    # Wix's ids look like "1700000000.12345678901234567890"; ours only need to be unique.
    return f"{time.time():.3f}{secrets.randbelow(10**12):012d}"


def json_response(status: int, body: dict[str, Any] | None, request_id: str) -> HttpResponse:
    if body is None:
        response = HttpResponse(status=status, content=b"")
    else:
        response = JsonResponse(body, status=status)
    response["X-Wix-Request-Id"] = request_id
    return response


def error_response(error: EmuApiError, request_id: str) -> HttpResponse:
    # Wix may send 5xx with an empty body; 503 does here, so clients must cope with both.
    body = None if error.status == 503 else error.body()
    response = json_response(error.status, body, request_id)
    for name, value in error.headers.items():
        response[name] = value
    return response


# --- Authentication ---------------------------------------------------------------------------


def authenticate(request: HttpRequest, scope: str = BACKUPS) -> EmuSite:
    """The site a request may act on, from an API key or an OAuth access token.

    `scope` is the API's permission: a key without it authenticates but is refused (403).
    """
    secret = request.headers.get("Authorization", "").strip()
    if not secret:
        raise EmuApiError(403, "Missing Authorization header", code="PERMISSION_DENIED")
    key = EmuApiKey.objects.filter(key=secret).select_related("site").first()
    if key is not None:
        raw_site_id = request.headers.get("wix-site-id", "").strip()
        if not raw_site_id:
            raise EmuApiError(403, "Missing wix-site-id header", code="PERMISSION_DENIED")
        if raw_site_id != str(key.site.site_id):
            raise EmuApiError(
                403, "The API key does not grant access to this site", code="PERMISSION_DENIED"
            )
        if not (key.can_manage_backups if scope == BACKUPS else key.can_manage_data):
            raise EmuApiError(
                403,
                f"The API key lacks the permission {SCOPES[scope]}",
                code="PERMISSION_DENIED",
            )
        return key.site
    token = EmuToken.objects.filter(token=secret).select_related("site").first()
    if token is None:
        raise EmuApiError(401, "Unknown API key or access token", code="UNAUTHENTICATED")
    if token.expires_at <= timezone.now():
        raise EmuApiError(401, "The access token has expired", code="UNAUTHENTICATED")
    return token.site


# --- Faults -----------------------------------------------------------------------------------


def draw_fault(site: EmuSite) -> str | None:
    """One of "error", "rate_limit", "delay", "drop", "garbage", or None, by the fault shares."""
    shares = (
        ("error", site.fault_error_rate),
        ("rate_limit", site.fault_rate_limit_rate),
        ("delay", site.fault_delay_rate),
        ("drop", site.fault_drop_rate),
        ("garbage", site.fault_garbage_rate),
    )
    if site.fault_count == 0 or not any(share for _, share in shares):
        return None
    if site.fault_count is not None:
        # Decremented in the database, so concurrent requests never spend more than `count`
        # faults (writing `site.fault_count - 1` let two requests that read the same count both
        # spend one).
        spent = EmuSite.objects.filter(pk=site.pk, fault_count__gt=0).update(
            fault_count=F("fault_count") - 1
        )
        if not spent:
            return None
    draw = random.random()  # noqa: S311
    for name, share in shares:
        if draw < share:
            return name
        draw -= share
    return None


# Bigger than any answer a sane client reads whole (the product's client stops at 4 MiB).
GARBAGE_HUGE_BYTES = 8 * 1024 * 1024
GARBAGE_KINDS = ("html", "truncated", "huge")


def garbage_response(response: HttpResponse, rid: str, kind: str | None = None) -> HttpResponse:
    """A 200 whose body breaks the contract, as a misbehaving proxy or a bug at Wix might send.

    Given after the work is done, like a dropped connection: the client cannot tell whether its
    request took effect. "html": an error page instead of JSON; "truncated": the real answer cut
    in half (a whole HTTP message, just not whole JSON); "huge": JSON far larger than any answer.
    """
    # Read through the package, where tests (and demos) narrow the kinds with one setattr.
    kinds = getattr(sys.modules.get("wixemulator.api"), "GARBAGE_KINDS", GARBAGE_KINDS)
    kind = kind or random.choice(kinds)  # noqa: S311
    if kind == "html":
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        garbled = HttpResponse(body, status=200, content_type="text/html")
    elif kind == "truncated":
        content = response.content
        garbled = HttpResponse(content[: max(1, len(content) // 2)], status=200)
        garbled["Content-Type"] = "application/json"
    else:
        padding = b"x" * GARBAGE_HUGE_BYTES
        garbled = HttpResponse(b'{"backups": [], "padding": "' + padding + b'"}', status=200)
        garbled["Content-Type"] = "application/json"
    garbled["X-Wix-Request-Id"] = rid
    return garbled


def drop_connection(request: HttpRequest) -> bool:
    """Shut the client's socket so it sees the connection drop with no answer."""
    sock = request.META.get("gunicorn.socket")
    stream: Any = request.META.get("wsgi.input")
    # Under Django's own servers (runserver, live_server) the socket sits under the input stream:
    # LimitedStream keeps the bound read of a BufferedReader, whose raw SocketIO holds the socket.
    for _ in range(6):
        if sock is not None or stream is None:
            break
        sock = getattr(stream, "_sock", None)
        reader = getattr(stream, "_read", None)
        stream = getattr(reader, "__self__", None) or getattr(stream, "raw", None)
    if not isinstance(sock, socket.socket):
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    return True


# --- The pipeline -----------------------------------------------------------------------------


def _log(site: EmuSite | None, request: HttpRequest, status: int, rid: str, counted: bool) -> None:
    # NUL cannot be stored in PostgreSQL text, and a hostile path may carry one.
    EmuRequestLog.objects.create(
        site=site,
        method=(request.method or "")[:10],
        path=request.path.replace("\x00", "")[:500],
        query=request.META.get("QUERY_STRING", "").replace("\x00", "")[:2000],
        status=status,
        request_id=rid,
        counted=counted,
    )
    if random.random() < 0.01:  # noqa: S311
        EmuRequestLog.objects.filter(at__lt=timezone.now() - LOG_RETENTION).delete()


def _check_rate_limit(site: EmuSite, code: str) -> None:
    window_start = timezone.now() - timedelta(minutes=1)
    recent = EmuRequestLog.objects.filter(site=site, counted=True, at__gte=window_start)
    if recent.count() >= settings.WIXEMULATOR_RATE_LIMIT:
        oldest = recent.order_by("at").values_list("at", flat=True).first()
        wait = 1
        if oldest is not None:
            wait = max(1, int((oldest + timedelta(minutes=1) - timezone.now()).total_seconds()) + 1)
        raise EmuApiError(
            429,
            "Too many requests: the limit is 200 requests per minute per site",
            code=code,
            headers={"Retry-After": str(wait)},
        )


def wix_endpoint(
    *methods: str, scope: str = BACKUPS
) -> Callable[[Handler], Callable[..., HttpResponse]]:
    """The pipeline around a handler of one of Wix's APIs; `scope` names which (BACKUPS or DATA):
    the permission it needs and the code of its 429 (Wix Data answers WDE0014)."""
    rate_code = RATE_LIMIT_CODES[scope]

    def decorator(handler: Handler) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            rid = request_id()
            site: EmuSite | None = None
            counted = True
            fault = None
            try:
                if request.method not in methods:
                    raise EmuApiError(
                        405,
                        f"Method {request.method} is not allowed here",
                        code="METHOD_NOT_ALLOWED",
                        headers={"Allow": ", ".join(methods)},
                    )
                site = authenticate(request, scope)
                fault = draw_fault(site)
                if fault == "error":
                    status = random.choice([500, 503])  # noqa: S311
                    raise EmuApiError(status, "Internal error (injected)", code="INTERNAL")
                if fault == "rate_limit":
                    raise EmuApiError(
                        429,
                        "Too many requests (injected)",
                        code=rate_code,
                        headers={"Retry-After": "1"},
                    )
                if fault == "delay":
                    # Outside the transaction: a slow answer must not hold the site's lock.
                    time.sleep(site.fault_delay_seconds)
                with transaction.atomic():
                    locked = services.lock_site(site.pk)
                    try:
                        _check_rate_limit(locked, rate_code)
                    except EmuApiError:
                        counted = False
                        raise
                    now = locked.now()
                    services.settle(locked, now)
                    body = handler(request, locked, now, **kwargs)
                    response = json_response(200, body, rid)
                    _log(site, request, 200, rid, counted)
            except EmuApiError as error:
                response = error_response(error, rid)
                _log(site, request, error.status, rid, counted)
            if fault == "drop" and not drop_connection(request):
                logger.warning("could not drop the connection of request %s", rid)
            if fault == "garbage" and response.status_code == 200:
                response = garbage_response(response, rid)
            return response

        return view

    return decorator
