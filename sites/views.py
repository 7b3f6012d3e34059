"""The site owner's pages: short function views over services (writes) and selectors (reads).

Every view that names a site, backup or operation finds it through `_site_for` and friends, which
answer 404 for anything that is not the signed-in owner's (healthchecks' `_get_check_for_user`).
The `*_live` views are what htmx polls: they read the database only, never Wix.
"""

import functools
import hashlib
import time
import zoneinfo
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from . import kept, selectors, services
from .forms import (
    BackupNowForm,
    ConnectForm,
    ReplaceKeyForm,
    RestoreForm,
    TimeZoneForm,
    app_connection_available,
)
from .models import ON_DEMAND_SLOTS, Backup, Operation, Profile, Site
from .templatetags import wbm as wbm_tags

# --- Helpers -----------------------------------------------------------------------------------


def _site_for(request: HttpRequest, site_id: Any) -> Site:
    """The signed-in owner's site, or 404 (also for other owners' sites)."""
    site = selectors.owned_site(owner=request.user, site_id=site_id)
    if site is None:
        raise Http404
    request._wbm_zone = site.owner_time_zone or ""  # read with the site (see _zone_name)
    return site


def _backup_for(site: Site, backup_id: str) -> Backup:
    return get_object_or_404(Backup, site=site, wix_id=backup_id)


def _operation_for(site: Site, operation_id: Any) -> Operation:
    operation = get_object_or_404(
        Operation.objects.select_related("requested_by"), site=site, pk=operation_id
    )
    operation.site = site  # already read, and before the operation (as the page's version wants)
    return operation


def _zone_name(request: HttpRequest) -> str:
    if not hasattr(request, "_wbm_zone"):
        name = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True)
        request._wbm_zone = name.first() or ""
    return request._wbm_zone


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    site_page: selectors.SitePage | None = None,
) -> HttpResponse:
    """Render in the owner's time zone (activated here: the project's middleware is not ours)."""
    name = _zone_name(request)
    try:
        zone = zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None  # a zone removed from tzdata since it was chosen: fall back to the default
    with timezone.override(zone):
        context = {**context, "time_zone_name": timezone.get_current_timezone_name()}
        if site_page is not None:
            context["tables"] = _site_tables(site_page)
        return render(request, template, context, status=status)


TABLES_TEMPLATE = "sites/_site_tables.html"
# The tables of a site's page are kept this long after they were drawn for a version.
TABLES_KEPT_SECONDS = 3600


@functools.cache
def _tables_format() -> str:
    """Changes with the template and the tags that draw the tables.

    So a deploy never serves HTML kept by the previous release, even from a shared cache.
    """
    source = get_template(TABLES_TEMPLATE).template.source.encode()
    tags = Path(wbm_tags.__file__).read_bytes()
    return hashlib.blake2b(source + tags, digest_size=6).hexdigest()


def _site_tables(page: selectors.SitePage) -> SafeString:
    """The page's tables, drawn once per version of the site and time zone, then kept.

    On a site with many backups they are most of the page's cost (bench/page_speed.py), and they
    change only when the site's version moves. The key names all the HTML depends on.
    """
    site = page.site
    zone = timezone.get_current_timezone_name()
    key = f"wbm:site-tables:{_tables_format()}:{site.pk}:{site.version}:{zone}"
    html = kept.get_many([key]).get(key)
    if not isinstance(html, str):
        html = render_to_string(TABLES_TEMPLATE, {"site": site, "tables": page.tables})
        kept.set_many({key: html}, TABLES_KEPT_SECONDS)
    return mark_safe(html)  # noqa: S308 - our own template's output, escaped when drawn


def _unchanged(request: HttpRequest, version: str | None) -> bool:
    """Whether the poll's fragment (drawn at `?v=`) still shows the current version."""
    if version is None:
        raise Http404  # not the owner's (the full path would say the same, with more queries)
    return request.GET.get("v") == version


def _live(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    site_page: selectors.SitePage | None = None,
) -> HttpResponse:
    """A poll's answer once the fragment changed: drawn again, announcing what changed."""
    return _render(request, template, {**context, "announce": True}, site_page=site_page)


def live_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required for what htmx polls: once the session has ended, reload the whole page.

    A plain redirect would be followed by the browser and the sign-in page swapped into the
    fragment; a full reload lands on it properly (and comes back here after signing in).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                return HttpResponseClientRefresh()
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _float(raw: str | None) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if value == value else None  # NaN compares unequal to itself


# --- The dashboard -----------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    page = selectors.dashboard(owner=request.user)
    return _render(request, "sites/dashboard.html", {"page": page})


@live_login_required
@require_GET
def dashboard_live(request: HttpRequest) -> HttpResponse:
    if _unchanged(request, selectors.dashboard_version(owner=request.user)):
        return HttpResponse(status=204)
    page = selectors.dashboard(owner=request.user, watched=request.GET.get("w", ""))
    return _live(request, "sites/_dashboard_live.html", {"page": page})


# --- Connecting, replacing the key, disconnecting ----------------------------------------------


@login_required
@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def site_connect(request: HttpRequest) -> HttpResponse:
    form = ConnectForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_connect(owner=request.user, **form.connect_kwargs())
        except services.ConnectionProblem as problem:
            form.add_error(None, str(problem))
        except IntegrityError:  # connected in another tab since the form was checked
            form.add_error("wix_site_id", "You have already connected this site.")
        else:
            how = f"the key ending …{site.secret_hint}" if site.secret_hint else "the Wix app"
            messages.success(request, f"Connected “{site.name}”: Wix accepted {how}.")
            return redirect("sites:site", site_id=site.pk)
    context = {"form": form, "app_available": app_connection_available()}
    return _render(request, "sites/connect.html", context)


@login_required
@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def site_replace_key(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    form = ReplaceKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_replace_key(
                site=site, api_key=form.cleaned_data["api_key"], user=request.user
            )
        except services.ConnectionProblem as problem:
            form.add_error("api_key", str(problem))
        else:
            hint = form.cleaned_data["api_key"][-4:]
            messages.success(request, f"Wix accepted the new key (ending …{hint}).")
            return redirect("sites:site", site_id=site.pk)
    return _render(request, "sites/replace_key.html", {"site": site, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def site_disconnect(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    if request.method == "POST":
        services.site_disconnect(site=site)
        messages.success(
            request, f"Disconnected “{site.name}”. Nothing was changed or deleted on Wix."
        )
        return redirect("sites:dashboard")
    return _render(request, "sites/disconnect.html", {"site": site})


# --- A site's page -----------------------------------------------------------------------------


@login_required
@require_GET
def site_detail(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    # Opening the page asks the worker for fresh data when ours is old; the page then polls
    # until it lands (REFRESH_WAIT at most).
    since = time.time() if services.site_refresh_if_stale(site=site) else None
    page = selectors.site_page(site=site, refresh_since=since)
    return _render(request, "sites/site.html", {"page": page, "site": site}, site_page=page)


@live_login_required
@require_GET
def site_live(request: HttpRequest, site_id: Any) -> HttpResponse:
    since = _float(request.GET.get("since"))
    version = selectors.site_version(owner=request.user, site_id=site_id, refresh_since=since)
    if _unchanged(request, version):
        return HttpResponse(status=204)
    site = _site_for(request, site_id)
    page = selectors.site_page(site=site, watched=request.GET.get("w", ""), refresh_since=since)
    return _live(request, "sites/_site_live.html", {"page": page, "site": site}, site_page=page)


# --- Operations: back up, restore, delete ------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def site_backup(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    slots = list(site.backups.holding_slot().order_by("requested_at", "wix_id"))
    # Wix deletes the oldest on-demand backup when a fourth is made: name it before sending.
    evicted = slots[0] if len(slots) >= ON_DEMAND_SLOTS else None
    if request.method == "POST":
        form = BackupNowForm(request.POST)
        if form.is_valid() and (evicted is None or form.cleaned_data["evicts"] == evicted.wix_id):
            running = site.operations.filter(
                kind=Operation.CREATE_BACKUP, state__in=Operation.RUNNING
            ).exists()
            services.operation_request(site=site, kind=Operation.CREATE_BACKUP, user=request.user)
            if running:
                messages.info(request, "A backup is already being made; no second one was asked.")
            else:
                messages.success(request, "Backup requested. Wix makes it in the background.")
            return redirect("sites:site", site_id=site.pk)
    # Ask (again): the form names the backup Wix would delete now, not the one of a past page.
    form = BackupNowForm(initial={"evicts": evicted.wix_id if evicted else ""})
    context = {"site": site, "form": form, "slots": slots, "evicted": evicted}
    context["slot_count"] = ON_DEMAND_SLOTS
    return _render(request, "sites/backup_now.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def backup_restore(request: HttpRequest, site_id: Any, backup_id: str) -> HttpResponse:
    site = _site_for(request, site_id)
    backup = _backup_for(site, backup_id)
    form = RestoreForm(request.POST or None, site=site, backup=backup)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            operation = services.operation_request(
                site=site,
                kind=form.kind,
                user=request.user,
                backup_wix_id=backup.wix_id,
                collections=form.chosen,
            )
        except services.OperationRefused as refusal:
            form.add_error(None, str(refusal))
            status = 409
        else:
            messages.success(request, "Restore requested. Follow it here.")
            return redirect("sites:operation", site_id=site.pk, operation_id=operation.pk)
    blocked = selectors.restore_blocked(site, backup)
    context = {"site": site, "backup": backup, "form": form, "blocked": blocked}
    return _render(request, "sites/restore.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def backup_delete(request: HttpRequest, site_id: Any, backup_id: str) -> HttpResponse:
    site = _site_for(request, site_id)
    backup = _backup_for(site, backup_id)
    refusal = ""
    if request.method == "POST":
        try:
            services.operation_request(
                site=site,
                kind=Operation.DELETE_BACKUP,
                user=request.user,
                backup_wix_id=backup.wix_id,
            )
        except services.OperationRefused as error:
            refusal = str(error)
        else:
            messages.success(request, "Deletion requested. The slot frees up once Wix is done.")
            return redirect("sites:site", site_id=site.pk)
    blocked = refusal or selectors.delete_blocked(site, backup)
    context = {"site": site, "backup": backup, "blocked": blocked}
    return _render(request, "sites/delete.html", context, status=409 if refusal else 200)


@login_required
@require_GET
def operation_detail(request: HttpRequest, site_id: Any, operation_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    operation = _operation_for(site, operation_id)
    page = selectors.operation_page(operation=operation)
    return _render(request, "sites/operation.html", {"page": page, "site": site})


@live_login_required
@require_GET
def operation_live(request: HttpRequest, site_id: Any, operation_id: Any) -> HttpResponse:
    version = selectors.operation_version(
        owner=request.user, site_id=site_id, operation_id=operation_id
    )
    if _unchanged(request, version):
        return HttpResponse(status=204)
    site = _site_for(request, site_id)
    operation = _operation_for(site, operation_id)
    page = selectors.operation_page(operation=operation, watched=request.GET.get("w", ""))
    return _live(request, "sites/_operation_live.html", {"page": page, "site": site})


# --- The account -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    form = TimeZoneForm(request.POST or None, initial={"time_zone": _zone_name(request)})
    if request.method == "POST" and form.is_valid():
        services.profile_set_time_zone(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, "Saved. Times are now shown in your chosen zone.")
        return redirect("sites:account")
    return _render(request, "sites/account.html", {"form": form})
