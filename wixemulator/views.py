"""The emulator's data browser: see and change an emulated site's content (staff only).

This is where a demo shows a restore at work: change the data, restore a backup, see it back.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .forms import BulkForm, ClockForm, ItemForm
from .models import EmuCollection, EmuItem, EmuSite, global_offset_seconds

ITEMS_PER_PAGE = 50


def _settled_site(site_id: object) -> EmuSite:
    """The site with finished restorations written, so the pages show what Wix would hold."""
    get_object_or_404(EmuSite, site_id=site_id)
    with transaction.atomic():
        site = services.lock_site(site_id)
        services.settle(site, site.now())
    return site


@staff_member_required
def home(request: HttpRequest) -> HttpResponse:
    sites = EmuSite.objects.annotate(collection_count=Count("collections"))
    return render(
        request,
        "wixemulator/home.html",
        {"sites": sites, "clock_form": ClockForm(), **_clock_context()},
    )


def _clock_context() -> dict[str, object]:
    ahead = global_offset_seconds()
    return {
        "clock_days": int(ahead // 86400),
        "clock_hours": int(ahead % 86400 // 3600),
        "product_follows": bool(settings.WBM_CLOCK),
    }


@staff_member_required
@require_POST
def clock_advance(request: HttpRequest) -> HttpResponse:
    """Let time pass on every site's clock, and the product's when it follows the emulator."""
    form = ClockForm(request.POST)
    if not form.is_valid():
        sites = EmuSite.objects.annotate(collection_count=Count("collections"))
        context = {"sites": sites, "clock_form": form, **_clock_context()}
        return render(request, "wixemulator/home.html", context, status=400)
    services.advance_all_clocks(seconds=form.seconds())
    messages.success(request, "Time passed on every clock.")
    return redirect("wixemulator:home")


@staff_member_required
def site_detail(request: HttpRequest, site_id: object) -> HttpResponse:
    site = _settled_site(site_id)
    now = site.now()
    collections = site.collections.annotate(item_count=Count("items"))
    backups = site.backups.order_by("-requested_at")[:50]
    restorations = site.restorations.select_related("backup").order_by("-requested_at")[:20]
    return render(
        request,
        "wixemulator/site.html",
        {
            "site": site,
            "collections": collections,
            "backups": [(b, b.status_at(now)) for b in backups],
            "restorations": [(r, r.status_at(now)) for r in restorations],
            "slots_used": site.backups.filter(services.holds_slot(now)).count(),
            "slots": services.ON_DEMAND_SLOTS,
        },
    )


@staff_member_required
def collection_detail(request: HttpRequest, site_id: object, collection_id: str) -> HttpResponse:
    site = _settled_site(site_id)
    collection = get_object_or_404(EmuCollection, site=site, collection_id=collection_id)
    page = Paginator(collection.items.order_by("item_id"), ITEMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "wixemulator/collection.html",
        {"site": site, "collection": collection, "page": page, "bulk_form": BulkForm()},
    )


@staff_member_required
def item_edit(
    request: HttpRequest, site_id: object, collection_id: str, item_id: str
) -> HttpResponse:
    item = get_object_or_404(
        EmuItem.objects.select_related("collection__site"),
        collection__site_id=site_id,
        collection__collection_id=collection_id,
        item_id=item_id,
    )
    if request.method == "POST":
        form = ItemForm(request.POST)
        if form.is_valid():
            item.data = form.cleaned_data["data"]
            # An edit here is a write on Wix: the item's _updatedDate moves with the site's clock.
            item.updated_at = services.content.to_millis(item.collection.site.now())
            item.save(update_fields=["data", "updated_at"])
            messages.success(request, f"Saved {item.item_id}.")
            return redirect("wixemulator:collection", site_id=site_id, collection_id=collection_id)
    else:
        form = ItemForm(initial={"data": _pretty(item.data)})
    return render(request, "wixemulator/item.html", {"item": item, "form": form})


@staff_member_required
@require_POST
def bulk_update(request: HttpRequest, site_id: object, collection_id: str) -> HttpResponse:
    collection = get_object_or_404(
        EmuCollection.objects.select_related("site"), site_id=site_id, collection_id=collection_id
    )
    form = BulkForm(request.POST)
    if not form.is_valid():
        page = Paginator(collection.items.order_by("item_id"), ITEMS_PER_PAGE).get_page(1)
        context = {"site": collection.site, "collection": collection, "page": page}
        return render(
            request, "wixemulator/collection.html", {**context, "bulk_form": form}, status=400
        )
    field, value = form.cleaned_data["field"], form.cleaned_data["value"]
    with transaction.atomic():
        items = list(collection.items.all())
        stamp = services.content.to_millis(collection.site.now())
        for item in items:
            item.data = {**item.data, field: value}
            item.updated_at = stamp
        EmuItem.objects.bulk_update(items, ["data", "updated_at"], batch_size=500)
    messages.success(request, f"Set {field} to {value!r} on {len(items)} items.")
    return redirect("wixemulator:collection", site_id=site_id, collection_id=collection_id)


@staff_member_required
@require_POST
def auto_backup(request: HttpRequest, site_id: object) -> HttpResponse:
    get_object_or_404(EmuSite, site_id=site_id)
    services.take_auto_backup(site_id)
    messages.success(request, "Wix took an automatic backup.")
    return redirect("wixemulator:site", site_id=site_id)


def _pretty(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
