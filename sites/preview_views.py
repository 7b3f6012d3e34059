"""The owner's restore preview pages (docs/snapshots.md, "Restore previews"): start one for a
snapshot (or a Wix backup's snapshot), its counts per collection (live), the list of items behind
a count, and one item's field-by-field difference. Thin, as sites/views.py: every site, snapshot,
preview and item is found through `access` (404 for anything not the signed-in person's).
"""

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from . import access, engine, pages, rules
from .models import RestoreRun
from .pages.preview import KIND_WORDS
from .restore_forms import SnapshotRestoreForm
from .snapshots import StorageError
from .views import _live, _render, _site_for, _unchanged, live_login_required


@login_required
@require_http_methods(["GET", "POST"])
def preview_new(request: HttpRequest, site_id: Any, snapshot_id: Any) -> HttpResponse:
    """Choose the collections, then start the preview (POST)."""
    site = _site_for(request, site_id, change=True)
    snapshot = access.snapshot_of(site, snapshot_id)
    source = request.POST if request.method == "POST" else request.GET
    backup_id = source.get("backup", "")
    backup = access.backup_of(site, backup_id) if backup_id else None
    held = [c["id"] for c in snapshot.collections if c.get("id")]
    chosen = source.getlist("collections") if request.method == "POST" else held
    problem, status = rules.preview_refusal(snapshot), 200
    if request.method == "POST" and not problem:
        if not chosen:
            problem, status = "Choose at least one collection to compare.", 400
        else:
            try:
                preview = engine.preview_request(
                    site=site, source=snapshot, collections=chosen, backup=backup, user=request.user
                )
            except engine.OperationRefused as refusal:
                problem, status = str(refusal), 409
            else:
                return redirect("sites:preview", site_id=site.pk, preview_id=preview.pk)
    elif problem:
        status = 409 if request.method == "POST" else 200
    context = {
        "site": site,
        "snapshot": snapshot,
        "backup": backup,
        "collections": [(c, c in chosen) for c in held],
        "problem": problem,
    }
    return _render(request, "sites/preview_new.html", context, status=status)


@login_required
@require_GET
def preview_detail(request: HttpRequest, site_id: Any, preview_id: Any) -> HttpResponse:
    site = _site_for(request, site_id)
    preview = access.preview_of(site, preview_id)
    page = pages.preview_page(preview)
    return _render(request, "sites/preview.html", {"page": page, "site": site})


@live_login_required
@require_GET
def preview_live(request: HttpRequest, site_id: Any, preview_id: Any) -> HttpResponse:
    version = pages.preview_version(owner=request.user, site_id=site_id, preview_id=preview_id)
    if _unchanged(request, version):
        return HttpResponse(status=204)
    site = _site_for(request, site_id)
    preview = access.preview_of(site, preview_id)
    page = pages.preview_page(preview)
    return _live(request, "sites/_preview_live.html", {"page": page, "site": site})


@login_required
@require_GET
def preview_items(request: HttpRequest, site_id: Any, preview_id: Any) -> HttpResponse:
    # The site comes with the preview: one query for both (the list is the page that grows).
    page = pages.items_page(
        owner=request.user,
        site_id=site_id,
        preview_id=preview_id,
        collection_id=request.GET.get("collection", ""),
        kind=request.GET.get("kind", ""),
        number=request.GET.get("page", "1"),
    )
    request._wbm_zone = page.preview.owner_time_zone or ""  # as _site_for does
    context = {"page": page, "site": page.preview.site}
    return _render(request, "sites/preview_items.html", context)


def _shown(value: Any, present: bool) -> str:
    """A field's value as the page shows it: its JSON (a text in quotes, null as null)."""
    if not present:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


@login_required
@require_GET
def preview_item(
    request: HttpRequest, site_id: Any, preview_id: Any, change_id: int
) -> HttpResponse:
    site = _site_for(request, site_id)
    preview = access.preview_of(site, preview_id)
    change = access.preview_change_of(preview, change_id)
    problem, rows = "", []
    try:
        difference = engine.preview_item_difference(change)
    except StorageError as error:
        problem = (
            f"The stored copy of this item cannot be read: {error.message} "
            "Preview again to compare with a fresh reading."
        )
    else:
        rows = [
            {
                "field": d.field,
                "system": d.field.startswith("_"),
                "old": _shown(d.old, d.old_present),
                "current": _shown(d.current, d.current_present),
                "old_present": d.old_present,
                "current_present": d.current_present,
            }
            for d in difference.fields
        ]
    context = {
        "site": site,
        "preview": preview,
        "change": change,
        "rows": rows,
        "problem": problem,
        "words": KIND_WORDS[change.kind],
    }
    return _render(request, "sites/preview_item.html", context, status=503 if problem else 200)


@login_required
@require_GET
def preview_restore(request: HttpRequest, site_id: Any, preview_id: Any) -> HttpResponse:
    """The items ticked on a list page, on the snapshot's restore form in the chosen-items mode
    (still to be confirmed by typing the site's name); the form posts to the snapshot's restore
    page, which decides. Every ticked id must be an item of this preview's lists (404 if not).
    """
    site = _site_for(request, site_id, change=True)
    preview = access.preview_of(site, preview_id)
    ticked = request.GET.getlist("change")
    if len(ticked) > rules.PREVIEW_PAGE_SIZE:
        # More than one list page holds: not ticked on a page of ours; said, nothing asked.
        return HttpResponseBadRequest(
            f"Tick at most {rules.PREVIEW_PAGE_SIZE} items at a time.", content_type="text/plain"
        )
    if not ticked:
        return redirect("sites:preview", site_id=site.pk, preview_id=preview.pk)
    changes = access.preview_changes_of(preview, ticked)
    snapshot = access.snapshot_of(site, preview.source_id)
    items = "\n".join(f"{c.collection_id} {c.item_id}" for c in changes)
    form = SnapshotRestoreForm(
        initial={"mode": RestoreRun.Mode.ITEMS, "items": items}, site=site, snapshot=snapshot
    )
    work = rules.in_flight(site)
    blocked = rules.snapshot_use_refusal(snapshot) or (
        "A restore of this site is already running; wait for it to end."
        if rules.restore_running(work)
        else ""
    )
    context = {
        "site": site,
        "snapshot": snapshot,
        "form": form,
        "blocked": blocked,
        "action": reverse("sites:snapshot_restore", args=[site.pk, snapshot.pk]),
        "ticked": len(changes),
        **pages.wix_safety_context(site, work, snapshot),
    }
    return _render(request, "sites/snapshot_restore.html", context)


@login_required
@require_GET
def item_history(request: HttpRequest, site_id: Any) -> HttpResponse:
    """One item's versions in the site's snapshots (`?collection=…&item=…`), each with its
    difference from the live item and a "Restore this version" form posting a chosen-items
    restore of that one item to the snapshot's restore page (which confirms and decides)."""
    site = _site_for(request, site_id)
    collection_id = request.GET.get("collection", "").strip()
    item_id = request.GET.get("item", "").strip()
    if not collection_id or not item_id or len(collection_id) > 255 or len(item_id) > 1000:
        raise Http404
    if any(c.isspace() for c in collection_id):
        raise Http404  # no collection id holds a space (a chosen-items line could not name it)
    try:
        number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        number = 1
    history = engine.item_history(site, collection_id, item_id, number)
    versions = [
        {
            "snapshot": v.snapshot,
            "held": v.data is not None,
            "rows": [
                {
                    "field": d.field,
                    "system": d.field.startswith("_"),
                    "old": _shown(d.old, d.old_present),
                    "current": _shown(d.current, d.current_present),
                    "old_present": d.old_present,
                    "current_present": d.current_present,
                }
                for d in v.fields
            ],
        }
        for v in history.versions
    ]
    context = {
        "site": site,
        "collection_id": collection_id,
        "item_id": item_id,
        "history": history,
        "versions": versions,
        "line": f"{collection_id} {item_id}",
    }
    status = 503 if history.problem else 200
    return _render(request, "sites/item_history.html", context, status=status)
