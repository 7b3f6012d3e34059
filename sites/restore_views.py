"""The owner's restore pages of snapshots: restore one (whole collections, merge or chosen items,
with the typed confirmation) and "Undo this restore" (confirmed on a page of its own). Thin, as
sites/views.py: the site, snapshot and operation are found through `access` (404 for anything
not the signed-in person's) before anything else; the engine decides and writes.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from . import access, engine, pages, rules
from .restore_forms import SnapshotRestoreForm
from .views import _operation_message, _render, _site_for


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_restore(request: HttpRequest, site_id: Any, snapshot_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    snapshot = access.snapshot_of(site, snapshot_id)
    form = SnapshotRestoreForm(request.POST or None, site=site, snapshot=snapshot)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            operation = engine.snapshot_restore_request(
                site=site,
                snapshot=snapshot,
                mode=form.cleaned_data["mode"],
                collections=form.cleaned_data["collections"],
                items=form.cleaned_data.get("chosen"),
                user=request.user,
                wix_backup=form.cleaned_data["wix_backup"],
            )
        except engine.OperationRefused as refusal:
            form.add_error(None, str(refusal))
            status = 409
        else:
            _operation_message(request, operation, "Restore requested. Follow it here.")
            return redirect("sites:operation", site_id=site.pk, operation_id=operation.pk)
    elif request.method == "POST":
        status = 400
    work = rules.in_flight(site)
    blocked = rules.snapshot_use_refusal(snapshot) or (
        "A restore of this site is already running; wait for it to end."
        if rules.restore_running(work)
        else ""
    )
    context = {"site": site, "snapshot": snapshot, "form": form, "blocked": blocked}
    context.update(pages.wix_safety_context(site, work, snapshot))
    return _render(request, "sites/snapshot_restore.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def restore_undo(request: HttpRequest, site_id: Any, operation_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    operation = access.operation_of(site, operation_id)
    undo = pages.restore_undo_page(operation)
    status, refusal = 200, ""
    if request.method == "POST":
        if request.POST.get("confirm") != str(operation.pk):
            refusal, status = "Confirm on this page to undo the restore.", 400
        else:
            try:
                undoing = engine.restore_undo_request(operation=operation, user=request.user)
            except engine.OperationRefused as error:
                refusal, status = str(error), 409
            else:
                _operation_message(request, undoing, "Undo requested. Follow it here.")
                return redirect("sites:operation", site_id=site.pk, operation_id=undoing.pk)
    context = {
        "site": site,
        "operation": operation,
        "run": undo.run,
        "collections": undo.collections,
        "blocked": refusal or undo.refusal,
    }
    return _render(request, "sites/restore_undo.html", context, status=status)
