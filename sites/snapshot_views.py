"""The owner's snapshot pages: take, pin, verify, delete, download (zip or one collection's CSV)
and the site's snapshot settings (docs/snapshots.md). Thin, as sites/views.py: every site and
snapshot is found through `access` (404 for anything not the signed-in person's), writes go to
the engine, and every refusal is said in words, never a 500.
"""

import itertools
import logging
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from . import access, engine, rules
from .models import Site, Snapshot
from .snapshot_forms import SnapshotSettingsForm
from .snapshots import ObjectNotFound, StorageError
from .views import _render, _site_for

logger = logging.getLogger(__name__)


def _posted_only(request: HttpRequest) -> HttpResponse | None:
    """A 405 for anything but a POST, answered after the site and snapshot were found: an id
    that is not the person's is a 404 whatever the method, so the answer tells nothing."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _to_snapshots(site: Site) -> HttpResponse:
    return redirect(reverse("sites:site", args=[site.pk]) + "#snapshots")


def _problem(request: HttpRequest, site: Site, title: str, text: str, status: int) -> HttpResponse:
    """A refusal or a failure as a page of its own (a download's, which has no page to go
    back to with a message): what happened and the way back."""
    context = {"site": site, "title": title, "text": text}
    return _render(request, "sites/snapshot_problem.html", context, status=status)


@login_required
def snapshot_take(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    if refused := _posted_only(request):
        return refused
    running = rules.snapshot_running(site) is not None
    operation = engine.snapshot_request(site=site, user=request.user)
    if running:
        text = "A snapshot is already being taken; no second one was started."
        level = messages.INFO
    else:
        text = "Snapshot started. Its progress shows below."
        level = messages.SUCCESS
    # The operation's id: static/js/live.js takes the message away once it no longer runs.
    messages.add_message(request, level, text, extra_tags=str(operation.pk))
    return _to_snapshots(site)


@login_required
def snapshot_pin(request: HttpRequest, site_id: Any, snapshot_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    snapshot = access.snapshot_of(site, snapshot_id)
    if refused := _posted_only(request):
        return refused
    pinned = request.POST.get("pinned") == "1"
    try:
        engine.snapshot_pin(snapshot=snapshot, pinned=pinned, user=request.user)
    except engine.OperationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if pinned:
            messages.success(request, "Pinned: retention will never remove this snapshot.")
        else:
            messages.success(request, "Unpinned: retention may now remove this snapshot.")
    return _to_snapshots(site)


@login_required
def snapshot_verify(request: HttpRequest, site_id: Any, snapshot_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    snapshot = access.snapshot_of(site, snapshot_id)
    if refused := _posted_only(request):
        return refused
    try:
        operation = engine.snapshot_verify_request(snapshot=snapshot, user=request.user)
    except engine.OperationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        text = "Verify started: every stored item is read back and checked."
        messages.add_message(request, messages.SUCCESS, text, extra_tags=str(operation.pk))
    return _to_snapshots(site)


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_delete(request: HttpRequest, site_id: Any, snapshot_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    snapshot = access.snapshot_of(site, snapshot_id)
    problem, status = "", 200
    if request.method == "POST":
        # The confirmation names the snapshot the page showed: a stale form never deletes
        # another one.
        if request.POST.get("confirm") != str(snapshot.pk):
            problem, status = "Confirm the deletion with the button below.", 400
        else:
            try:
                engine.snapshot_delete(snapshot=snapshot, user=request.user)
            except engine.OperationRefused as refusal:
                problem, status = str(refusal), 409
            except StorageError as error:
                logger.warning("snapshot %s not deleted: %s", snapshot.pk, error)
                problem, status = f"The snapshot could not be deleted: {error}", 503
            else:
                messages.success(request, "Snapshot deleted.")
                return _to_snapshots(site)
    blocked = rules.snapshot_delete_refusal(snapshot)
    context = {"site": site, "snapshot": snapshot, "blocked": blocked, "problem": problem}
    return _render(request, "sites/snapshot_delete.html", context, status=status)


def _streamed(chunks: Iterator[bytes], content_type: str, filename: str) -> HttpResponse:
    """The download, its first chunk already in hand (so a missing snapshot was said clearly
    before any byte was sent)."""
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _download_name(site: Site, snapshot: Snapshot, tail: str) -> str:
    # ASCII only (slugify): a header's filename needs no encoding then.
    when = snapshot.started_at.strftime("%Y%m%d-%H%M%S")
    return f"{slugify(site.name) or 'site'}-snapshot-{when}{tail}"


def _open_stream(
    request: HttpRequest, site: Site, snapshot: Snapshot, start: Any
) -> tuple[Iterator[bytes] | None, HttpResponse | None]:
    """The chunks of a download with the first one read, or the page saying why not."""
    refusal = rules.snapshot_use_refusal(snapshot)
    if refusal:
        return None, _problem(request, site, "Nothing to download", refusal, 409)
    try:
        chunks = iter(start())
        first = next(chunks, b"")
    except ObjectNotFound:
        text = "This snapshot is no longer in storage: it was deleted or pruned."
        return None, _problem(request, site, "Snapshot not found", text, 404)
    except KeyError:
        text = "This snapshot holds no such collection."
        return None, _problem(request, site, "Collection not found", text, 404)
    except StorageError as error:
        logger.warning("snapshot %s not downloaded: %s", snapshot.pk, error)
        return None, _problem(request, site, "Download failed", str(error), 503)
    return itertools.chain([first], chunks), None


@login_required
@require_GET
def snapshot_download(request: HttpRequest, site_id: Any, snapshot_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    snapshot = access.snapshot_of(site, snapshot_id)
    chunks, problem = _open_stream(
        request, site, snapshot, lambda: engine.snapshot_download(snapshot)
    )
    if problem is not None:
        return problem
    name = _download_name(site, snapshot, ".zip")
    return _streamed(chunks, "application/zip", name)


@login_required
@require_GET
def snapshot_csv(
    request: HttpRequest, site_id: Any, snapshot_id: Any, collection_id: str
) -> HttpResponse:
    site = _site_for(request, site_id)
    snapshot = access.snapshot_of(site, snapshot_id)
    chunks, problem = _open_stream(
        request, site, snapshot, lambda: engine.snapshot_csv(snapshot, collection_id)
    )
    if problem is not None:
        return problem
    name = _download_name(site, snapshot, f"-{slugify(collection_id) or 'collection'}.csv")
    return _streamed(chunks, "text/csv; charset=utf-8", name)


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_settings(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    current = {
        "with_backup": site.snapshot_with_backup,
        "keep_last": site.snapshot_keep_last,
        "daily": site.snapshot_keep_daily,
        "weekly": site.snapshot_keep_weekly,
        "monthly": site.snapshot_keep_monthly,
    }
    form = SnapshotSettingsForm(request.POST or None, initial=current)
    preview = None
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif not form.cleaned_data["confirmed"]:
            # The dry run first (borg prune -n): what these rules would remove, then confirm.
            preview = rules.retention_preview(site, form.retention())
        else:
            data = form.cleaned_data
            try:
                engine.snapshot_settings_set(
                    site=site,
                    user=request.user,
                    with_backup=data["with_backup"],
                    keep_last=data["keep_last"],
                    daily=data["daily"],
                    weekly=data["weekly"],
                    monthly=data["monthly"],
                )
            except engine.OperationRefused as refusal:
                form.add_error(None, str(refusal))
                status = 409
            else:
                messages.success(request, "Snapshot settings saved.")
                return _to_snapshots(site)
    context = {"site": site, "form": form, "preview": preview}
    return _render(request, "sites/snapshot_settings.html", context, status=status)
