"""The schedule editor and the backup pins, as thin views: the site through `access` (404 for
anything not the signed-in person's), the write through the engine, every refusal in words."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import access, engine, pages
from .schedule_forms import ScheduleForm
from .schedules_models import Schedule
from .views import _render, _site_for


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, site_id: Any, kind: str) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    if kind not in Schedule.Kind.values:
        raise Http404
    current = pages.schedule_views(pages.site_state(site))[kind]
    form = ScheduleForm(request.POST or None, kind=kind, initial=_initial(current))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                engine.schedule_set(
                    site=site,
                    kind=kind,
                    frequency=data["frequency"],
                    at=data["at"],
                    weekday=data["weekday"],
                    paused=data["paused"],
                    user=request.user,
                )
            except engine.OperationRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(request, f"Schedule of {current.label.lower()} saved.")
                return redirect(reverse("sites:site", args=[site.pk]) + "#schedules")
        status = 400
    context = {"site": site, "form": form, "schedule": current}
    return _render(request, "sites/schedule_edit.html", context, status=status)


def _initial(view: Any) -> dict[str, Any]:
    return {
        "frequency": view.frequency,
        "at": view.at,
        "weekday": view.weekday,
        # A schedule never set shows as paused, but the form sets it going.
        "paused": view.paused if view.saved else False,
    }


@login_required
def backup_pin(request: HttpRequest, site_id: Any, backup_id: str) -> HttpResponse:
    """Pin ("keep this one") or unpin a backup, from its row; a refusal says why."""
    site = _site_for(request, site_id, change=True)
    backup = access.backup_of(site, backup_id)
    if request.method != "POST":
        # After the site and backup were found: an id not the person's is a 404 whatever the
        # method, so the answer tells nothing.
        return HttpResponseNotAllowed(["POST"])
    pinned = request.POST.get("pinned") == "1"
    try:
        engine.backup_pin(site=site, backup_wix_id=backup.wix_id, pinned=pinned, user=request.user)
    except engine.OperationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        text = (
            "Pinned: a new backup will never make Wix delete this one." if pinned else "Unpinned."
        )
        messages.success(request, text)
    return redirect(reverse("sites:site", args=[site.pk]) + "#backups")
