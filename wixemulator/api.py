"""Wix's Backups API over HTTP, served below /sandbox/ (../shared/wix-backups-api.md).

Every endpoint runs the same pipeline (`wix_endpoint`): method check, authentication, the site's
injected faults, then the work inside one transaction holding the site's lock (rate limit,
catch-up of derived state, the handler), then the request log and the `X-Wix-Request-Id` header.
Whatever goes wrong becomes a Wix-style error body; nothing reaches Django's 500 page.
"""

import json
import logging
import random
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import services
from .models import EmuApiKey, EmuApp, EmuRequestLog, EmuSite, EmuToken
from .services import EmuApiError, invalid

logger = logging.getLogger(__name__)

MAX_QUERY_FIELDS = 100
MAX_FILTER_VALUES = 10
MAX_PAGE = 1000
DEFAULT_PAGE = 50
MAX_RESTORE_COLLECTIONS = 1000
# The request log is pruned of rows older than this, now and then, so it never grows unbounded.
LOG_RETENTION = timedelta(hours=6)

Handler = Callable[..., dict[str, Any]]


def _request_id() -> str:
    # Wix's ids look like "1700000000.12345678901234567890"; ours only need to be unique.
    return f"{time.time():.3f}{secrets.randbelow(10**12):012d}"


def _json_response(status: int, body: dict[str, Any] | None, request_id: str) -> HttpResponse:
    if body is None:
        response = HttpResponse(status=status, content=b"")
    else:
        response = JsonResponse(body, status=status)
    response["X-Wix-Request-Id"] = request_id
    return response


def error_response(error: EmuApiError, request_id: str) -> HttpResponse:
    # Wix may send 5xx with an empty body; 503 does here, so clients must cope with both.
    body = None if error.status == 503 else error.body()
    response = _json_response(error.status, body, request_id)
    for name, value in error.headers.items():
        response[name] = value
    return response


# --- Authentication ---------------------------------------------------------------------------


def authenticate(request: HttpRequest) -> EmuSite:
    """The site a request may act on, from an API key or an OAuth access token."""
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
        if not key.can_manage_backups:
            raise EmuApiError(
                403,
                "The API key lacks the permission SCOPE.DC-DATA.MANAGE-BACKUPS",
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
        # Compare-and-swap, so concurrent requests never spend more than `count` faults.
        spent = EmuSite.objects.filter(pk=site.pk, fault_count__gt=0).update(
            fault_count=site.fault_count - 1
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
    kind = kind or random.choice(GARBAGE_KINDS)  # noqa: S311
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


def _check_rate_limit(site: EmuSite) -> None:
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
            code="RESOURCE_EXHAUSTED",
            headers={"Retry-After": str(wait)},
        )


def wix_endpoint(*methods: str) -> Callable[[Handler], Callable[..., HttpResponse]]:
    def decorator(handler: Handler) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            rid = _request_id()
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
                site = authenticate(request)
                fault = draw_fault(site)
                if fault == "error":
                    status = random.choice([500, 503])  # noqa: S311
                    raise EmuApiError(status, "Internal error (injected)", code="INTERNAL")
                if fault == "rate_limit":
                    raise EmuApiError(
                        429,
                        "Too many requests (injected)",
                        code="RESOURCE_EXHAUSTED",
                        headers={"Retry-After": "1"},
                    )
                if fault == "delay":
                    # Outside the transaction: a slow answer must not hold the site's lock.
                    time.sleep(site.fault_delay_seconds)
                with transaction.atomic():
                    locked = services.lock_site(site.pk)
                    try:
                        _check_rate_limit(locked)
                    except EmuApiError:
                        counted = False
                        raise
                    now = locked.now()
                    services.settle(locked, now)
                    body = handler(request, locked, now, **kwargs)
                    response = _json_response(200, body, rid)
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


# --- Input ------------------------------------------------------------------------------------


def _query(request: HttpRequest) -> dict[str, list[str]]:
    # Parsed here rather than through request.GET, whose too-many-fields error is Django's
    # HTML 400 page, not Wix's JSON.
    try:
        pairs = parse_qsl(
            request.META.get("QUERY_STRING", ""),
            keep_blank_values=True,
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except ValueError as error:
        raise invalid("query", "has too many parameters", "MAX_SIZE") from error
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _enum_list(params: dict[str, list[str]], name: str, allowed: tuple[str, ...]) -> list[str]:
    values = params.get(name, [])
    if len(values) > MAX_FILTER_VALUES:
        raise invalid(name, f"must hold at most {MAX_FILTER_VALUES} values", "MAX_SIZE")
    for value in values:
        if value not in allowed:
            raise invalid(name, f"has an unknown value {value[:50]!r}", "VALID_ENUM")
    return values


def _int(params: dict[str, list[str]], name: str, default: int, maximum: int | None) -> int:
    raw = params.get(name, [""])[-1]
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise invalid(name, "must be an integer", "FORMAT") from error
    if value < 0:
        raise invalid(name, "must not be negative", "MIN")
    if maximum is not None and value > maximum:
        raise invalid(name, f"must be at most {maximum}", "MAX")
    return value


def _paging(params: dict[str, list[str]]) -> tuple[int, int]:
    # Protobuf leaves an unset int as 0, so limit 0 means "the default", as on Wix.
    limit = _int(params, "paging.limit", DEFAULT_PAGE, MAX_PAGE) or DEFAULT_PAGE
    offset = _int(params, "paging.offset", 0, None)
    return limit, offset


def _backup_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise invalid("backupId", "must be a valid GUID", "FORMAT") from error


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig as error:
        raise invalid("body", "is too large", "MAX_SIZE") from error
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise EmuApiError(400, "The request body is not valid JSON", code="INVALID_JSON") from error
    if not isinstance(body, dict):
        raise EmuApiError(400, "The request body must be a JSON object", code="INVALID_JSON")
    return body


def _same_backup_id(body: dict[str, Any], backup_id: uuid.UUID) -> None:
    # The SDK repeats the path's id in the body; a different one is a client bug worth refusing.
    given = body.get("backupId")
    if given is not None and (not isinstance(given, str) or given.lower() != str(backup_id)):
        raise invalid("backupId", "does not match the backup id in the path", "MATCH")


def _restoration_collections(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("restorationCollections")
    if not isinstance(raw, list) or not raw:
        raise invalid("restorationCollections", "must be a non-empty list", "REQUIRED_FIELD")
    if len(raw) > MAX_RESTORE_COLLECTIONS:
        raise invalid(
            "restorationCollections", f"must hold at most {MAX_RESTORE_COLLECTIONS}", "MAX_SIZE"
        )
    cleaned: list[dict[str, Any]] = []
    destinations: set[str] = set()
    for index, item in enumerate(raw):
        field = f"restorationCollections[{index}]"
        if not isinstance(item, dict):
            raise invalid(field, "must be an object", "FORMAT")
        source = item.get("dataCollectionId")
        if not isinstance(source, str) or not source or len(source) > 256:
            raise invalid(f"{field}.dataCollectionId", "must be a non-empty string", "FORMAT")
        entry: dict[str, Any] = {"dataCollectionId": source}
        target = source
        destination = item.get("restoreDestination")
        if destination is not None:
            if not isinstance(destination, dict):
                raise invalid(f"{field}.restoreDestination", "must be an object", "FORMAT")
            target = destination.get("dataCollectionId")
            name = destination.get("displayName")
            if not isinstance(target, str) or not target or len(target) > 256:
                raise invalid(
                    f"{field}.restoreDestination.dataCollectionId",
                    "must be a non-empty string",
                    "FORMAT",
                )
            if name is not None and (not isinstance(name, str) or len(name) > 256):
                raise invalid(
                    f"{field}.restoreDestination.displayName", "must be a string", "FORMAT"
                )
            entry["restoreDestination"] = {"dataCollectionId": target, "displayName": name}
        if target in destinations:
            raise invalid(field, f"restores into {target!r} twice", "UNIQUE")
        destinations.add(target)
        cleaned.append(entry)
    return cleaned


# --- Endpoints --------------------------------------------------------------------------------


@wix_endpoint("GET", "POST")
def backups(request: HttpRequest, site: EmuSite, now: Any) -> dict[str, Any]:
    if request.method == "POST":
        # Create Backup: Wix reads nothing from the body.
        return {"backup": services.backup_json(services.create_backup(site, now), now)}
    params = _query(request)
    statuses = _enum_list(params, "status", services.BACKUP_STATUSES)
    types = _enum_list(params, "type", services.BACKUP_TYPES)
    limit, offset = _paging(params)
    items, total = services.list_backups(
        site, now, statuses=statuses, types=types, limit=limit, offset=offset
    )
    return {
        "backups": [services.backup_json(b, now) for b in items],
        "pagingMetadata": {"count": len(items), "offset": offset, "total": total},
    }


@wix_endpoint("GET")
def restorations(request: HttpRequest, site: EmuSite, now: Any) -> dict[str, Any]:
    params = _query(request)
    statuses = _enum_list(params, "status", services.RESTORATION_STATUSES)
    limit, offset = _paging(params)
    items, total = services.list_restorations(
        site, now, statuses=statuses, limit=limit, offset=offset
    )
    return {
        "restorations": [services.restoration_json(r, now) for r in items],
        "pagingMetadata": {"count": len(items), "offset": offset, "total": total},
    }


@wix_endpoint("POST")
def restore(request: HttpRequest, site: EmuSite, now: Any, backup_id: str) -> dict[str, Any]:
    bid = _backup_id(backup_id)
    body = _body(request)
    _same_backup_id(body, bid)
    restoration = services.restore(site, now, bid, None)
    return {"restoration": services.restoration_json(restoration, now)}


@wix_endpoint("POST")
def partial_restore(
    request: HttpRequest, site: EmuSite, now: Any, backup_id: str
) -> dict[str, Any]:
    bid = _backup_id(backup_id)
    body = _body(request)
    _same_backup_id(body, bid)
    collections = _restoration_collections(body)
    restoration = services.restore(site, now, bid, collections)
    return {"restoration": services.restoration_json(restoration, now)}


@wix_endpoint("DELETE")
def backup(request: HttpRequest, site: EmuSite, now: Any, backup_id: str) -> dict[str, Any]:
    # The SDK also sends ?backupId=<id>; the path's id is the one that counts.
    services.delete_backup(site, now, _backup_id(backup_id))
    return {}


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    rid = _request_id()
    return error_response(EmuApiError(404, "No such API path", code="NOT_FOUND"), rid)


@csrf_exempt
def oauth_token(request: HttpRequest) -> HttpResponse:
    """Client-credentials grant of a Wix app installed on a site."""
    rid = _request_id()
    try:
        if request.method != "POST":
            raise EmuApiError(405, "Use POST", code="METHOD_NOT_ALLOWED", headers={"Allow": "POST"})
        body = _body(request)
        if body.get("grant_type") != "client_credentials":
            raise invalid("grant_type", "must be client_credentials", "VALID_ENUM")
        fields = {}
        for name in ("client_id", "client_secret", "instance_id"):
            value = body.get(name)
            if not isinstance(value, str) or not value:
                raise invalid(name, "is required", "REQUIRED_FIELD")
            fields[name] = value
        try:
            app_id = uuid.UUID(fields["client_id"])
            instance_id = uuid.UUID(fields["instance_id"])
        except ValueError as error:
            raise invalid("client_id", "and instance_id must be GUIDs", "FORMAT") from error
        app = EmuApp.objects.filter(app_id=app_id).first()
        if app is None or not secrets.compare_digest(app.app_secret, fields["client_secret"]):
            raise EmuApiError(401, "Invalid app credentials", code="UNAUTHENTICATED")
        site = EmuSite.objects.filter(instance_id=instance_id, app=app).first()
        if site is None:
            raise EmuApiError(
                403, "The app is not installed on this instance", code="PERMISSION_DENIED"
            )
        lifetime = settings.WIXEMULATOR_TOKEN_SECONDS
        token = EmuToken.objects.create(
            token="OAUTH2." + secrets.token_urlsafe(48),
            site=site,
            expires_at=timezone.now() + timedelta(seconds=lifetime),
        )
        # Long-expired tokens are forgotten (then 401 "unknown"); recent ones still say "expired".
        EmuToken.objects.filter(site=site, expires_at__lt=timezone.now() - LOG_RETENTION).delete()
        return _json_response(
            200,
            {"access_token": token.token, "token_type": "Bearer", "expires_in": lifetime},
            rid,
        )
    except EmuApiError as error:
        return error_response(error, rid)
