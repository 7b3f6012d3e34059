"""The site owner's pages: short function views over the engine (writes) and pages (reads).

Every view that names a site, backup or operation finds it through `access`, which answers 404
for anything the signed-in person may not see (healthchecks' `_get_check_for_user`).
The `*_live` views are what htmx polls: they read the database only, never Wix.
"""

import time
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from . import access, connections, engine, pages, profiles, rules
from .forms import (
    BackupNowForm,
    ConnectForm,
    ReplaceKeyForm,
    RestoreForm,
    TimeZoneForm,
    app_connection_available,
)
from .models import Operation, Preview, Profile, Site
from .restore_forms import BackupRestoreForm

# --- Helpers -----------------------------------------------------------------------------------


def _site_for(request: HttpRequest, site_id: Any, *, change: bool = False) -> Site:
    """The site if the signed-in person may see it (or, with `change`, act on it), else 404."""
    find = access.site_to_change if change else access.site_to_view
    site = find(request.user, site_id)
    request._wbm_zone = site.owner_time_zone or ""  # read with the site (see _zone_name)
    return site


def _page_number(request: HttpRequest) -> int:
    """`?page=` of a paged list; a page number that is not one gives the newest page."""
    try:
        return int(request.GET.get("page") or 1)
    except ValueError:
        return 1


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
) -> HttpResponse:
    """Render in the owner's time zone (activated here: the project's middleware is not ours)."""
    name = _zone_name(request)
    try:
        zone = zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None  # a zone removed from tzdata since it was chosen: fall back to the default
    with timezone.override(zone):
        context = {**context, "time_zone_name": timezone.get_current_timezone_name()}
        return render(request, template, context, status=status)


def _unchanged(request: HttpRequest, version: str | None) -> bool:
    """Whether the poll's fragment (drawn at `?v=`) still shows the current version."""
    if version is None:
        raise Http404  # not the owner's (the full path would say the same, with more queries)
    return request.GET.get("v") == version


def _live(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A poll's answer once the fragment changed: drawn again, announcing what changed."""
    return _render(request, template, {**context, "announce": True})


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


def _operation_message(
    request: HttpRequest, operation: Operation, text: str, level: int = messages.SUCCESS
) -> None:
    """A message about an operation ("Backup requested…"): news only while it runs. Its id rides
    in the message's extra tags, and static/js/live.js takes the message away once the page no
    longer lists the operation as running (it ended while the page was open, or before)."""
    messages.add_message(request, level, text, extra_tags=str(operation.pk))


def _float(raw: str | None) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if value == value else None  # NaN compares unequal to itself


# --- The dashboard -----------------------------------------------------------------------------


def _dashboard(request: HttpRequest, watched: str = "") -> pages.Dashboard:
    page = pages.dashboard(owner=request.user, watched=watched)
    if page.rows:  # the owner's time zone came with the sites (see _zone_name)
        request._wbm_zone = page.rows[0].site.owner_time_zone or ""
    return page


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    page = _dashboard(request)
    return _render(request, "sites/dashboard.html", {"page": page})


@live_login_required
@require_GET
def dashboard_live(request: HttpRequest) -> HttpResponse:
    if _unchanged(request, pages.dashboard_version(owner=request.user)):
        return HttpResponse(status=204)
    page = _dashboard(request, watched=request.GET.get("w", ""))
    return _live(request, "sites/_dashboard_live.html", {"page": page})


# --- Connecting, replacing the key, disconnecting ----------------------------------------------


@login_required
@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def site_connect(request: HttpRequest) -> HttpResponse:
    form = ConnectForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            site = connections.site_connect(owner=request.user, **form.connect_kwargs())
        except connections.ConnectionProblem as problem:
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
    site = _site_for(request, site_id, change=True)
    form = ReplaceKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connections.site_replace_key(
                site=site, api_key=form.cleaned_data["api_key"], user=request.user
            )
        except connections.ConnectionProblem as problem:
            form.add_error("api_key", str(problem))
        else:
            hint = form.cleaned_data["api_key"][-4:]
            messages.success(request, f"Wix accepted the new key (ending …{hint}).")
            return redirect("sites:site", site_id=site.pk)
    return _render(request, "sites/replace_key.html", {"site": site, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def site_disconnect(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    if request.method == "POST":
        connections.site_disconnect(site=site)
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
    since = time.time() if engine.site_refresh_if_stale(site=site) else None
    page = pages.site_page(site=site, refresh_since=since)
    return _render(request, "sites/site.html", {"page": page, "site": site})


@live_login_required
@require_GET
def site_live(request: HttpRequest, site_id: Any) -> HttpResponse:
    since = _float(request.GET.get("since"))
    version = pages.site_version(owner=request.user, site_id=site_id, refresh_since=since)
    if _unchanged(request, version):
        return HttpResponse(status=204)
    site = _site_for(request, site_id)
    page = pages.site_page(site=site, watched=request.GET.get("w", ""), refresh_since=since)
    return _live(request, "sites/_site_live.html", {"page": page, "site": site})


@login_required
@require_GET
def site_activity(request: HttpRequest, site_id: Any) -> HttpResponse:
    """The whole log, a page at a time, optionally of one kind (?kind=, ?page=)."""
    site = _site_for(request, site_id)
    number = _page_number(request)
    try:
        page = pages.activity_page(site=site, kind=request.GET.get("kind", ""), number=number)
    except pages.UnknownKind as problem:
        page, status = pages.activity_page(site=site), 400
        context = {"page": page, "site": site, "problem": str(problem)}
        return _render(request, "sites/activity.html", context, status=status)
    return _render(request, "sites/activity.html", {"page": page, "site": site})


@login_required
@require_GET
def site_backups(request: HttpRequest, site_id: Any) -> HttpResponse:
    """All the site's backups, a page at a time (?page=), each offering what it offers on the
    site's page."""
    site = _site_for(request, site_id)
    number = _page_number(request)
    page = pages.backups_page(site=site, number=number)
    return _render(request, "sites/backups.html", {"page": page, "site": site})


# --- Operations: back up, restore, delete ------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def site_backup(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    slots = rules.slots_with_pins(site)
    # One more backup makes one go (Wix evicts the oldest, or the rotation deletes the oldest
    # unpinned first): name it before sending.
    plan = rules.next_backup_plan(slots, rules.in_flight(site))
    evicted = plan.goes
    if request.method == "POST":
        form = BackupNowForm(request.POST)
        if form.is_valid() and (evicted is None or form.cleaned_data["evicts"] == evicted.wix_id):
            running = site.operations.filter(
                kind=Operation.Kind.CREATE_BACKUP, state__in=Operation.RUNNING
            ).exists()
            try:
                operation = engine.operation_request(
                    site=site, kind=Operation.Kind.CREATE_BACKUP, user=request.user
                )
            except engine.OperationRefused as refusal:
                messages.error(request, str(refusal))
                return redirect("sites:site", site_id=site.pk)
            if running:
                text = "A backup is already being made; no second one was asked."
                _operation_message(request, operation, text, messages.INFO)
            else:
                text = "Backup requested. Wix makes it in the background."
                _operation_message(request, operation, text)
            return redirect("sites:site", site_id=site.pk)
    # Ask (again): the form names the backup Wix would delete now, not the one of a past page.
    form = BackupNowForm(initial={"evicts": evicted.wix_id if evicted else ""})
    context = {"site": site, "form": form, "slots": slots, "evicted": evicted, "plan": plan}
    context["slot_count"] = rules.slot_count()
    return _render(request, "sites/backup_now.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def backup_restore(request: HttpRequest, site_id: Any, backup_id: str) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    backup = access.backup_of(site, backup_id)
    # The snapshot taken with this backup, if complete: its restore modes are offered too, and
    # a preview of what the restore would change.
    snapshot = rules.backup_snapshot(backup)
    form_class = BackupRestoreForm if snapshot else RestoreForm
    form = form_class(request.POST or None, site=site, backup=backup)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if snapshot and form.snapshot_mode:
                operation = engine.snapshot_restore_request(
                    site=site,
                    snapshot=snapshot,
                    mode=form.snapshot_mode,
                    collections=form.cleaned_data["collections"],
                    items=form.cleaned_data.get("chosen"),
                    user=request.user,
                    wix_backup=form.cleaned_data["wix_backup"],
                )
            else:
                operation = engine.operation_request(
                    site=site,
                    kind=form.kind,
                    user=request.user,
                    backup_wix_id=backup.wix_id,
                    collections=form.chosen,
                    wix_backup=form.cleaned_data["wix_backup"],
                )
        except engine.OperationRefused as refusal:
            form.add_error(None, str(refusal))
            status = 409
        else:
            _operation_message(request, operation, "Restore requested. Follow it here.")
            return redirect("sites:operation", site_id=site.pk, operation_id=operation.pk)
    work = rules.in_flight(site)
    blocked = rules.restore_refusal(backup, work)
    context = {"site": site, "backup": backup, "form": form, "blocked": blocked}
    context["preview_source"] = context["snapshot"] = snapshot
    context.update(pages.wix_safety_context(site, work, backup))
    return _render(request, "sites/restore.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def backup_delete(request: HttpRequest, site_id: Any, backup_id: str) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    backup = access.backup_of(site, backup_id)
    refusal = ""
    if request.method == "POST":
        try:
            operation = engine.operation_request(
                site=site,
                kind=Operation.Kind.DELETE_BACKUP,
                user=request.user,
                backup_wix_id=backup.wix_id,
            )
        except engine.OperationRefused as error:
            refusal = str(error)
        else:
            text = "Deletion requested. The slot frees up once Wix is done."
            _operation_message(request, operation, text)
            return redirect("sites:site", site_id=site.pk)
    blocked = refusal or rules.delete_refusal(backup, rules.in_flight(site))
    context = {"site": site, "backup": backup, "blocked": blocked}
    return _render(request, "sites/delete.html", context, status=409 if refusal else 200)


@login_required
@require_GET
def operation_detail(request: HttpRequest, site_id: Any, operation_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    operation = access.operation_of(site, operation_id)
    if operation.kind == Operation.Kind.PREVIEW_RESTORE:
        # A preview's own page says all there is to say about it (progress, counts, items).
        preview = Preview.objects.filter(operation=operation).values_list("pk", flat=True)
        if preview:
            return redirect("sites:preview", site_id=site.pk, preview_id=preview[0])
    page = pages.operation_page(operation=operation)
    return _render(request, "sites/operation.html", {"page": page, "site": site})


@live_login_required
@require_GET
def operation_live(request: HttpRequest, site_id: Any, operation_id: Any) -> HttpResponse:
    version = pages.operation_version(
        owner=request.user, site_id=site_id, operation_id=operation_id
    )
    if _unchanged(request, version):
        return HttpResponse(status=204)
    site = _site_for(request, site_id)
    operation = access.operation_of(site, operation_id)
    page = pages.operation_page(operation=operation, watched=request.GET.get("w", ""))
    return _live(request, "sites/_operation_live.html", {"page": page, "site": site})


# --- The account -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    form = TimeZoneForm(request.POST or None, initial={"time_zone": _zone_name(request)})
    if request.method == "POST" and form.is_valid():
        profiles.profile_set_time_zone(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, "Saved. Times are now shown in your chosen zone.")
        return redirect("sites:account")
    return _render(request, "sites/account.html", {"form": form})
