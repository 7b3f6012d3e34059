"""Who may see or do what to a site: one function per question, 404 for everything else.

Today a site is its owner's alone; roles per site would change these functions and nothing that
calls them. Another owner's site, backup or operation is answered exactly like one that does not
exist (healthchecks' `_get_check_for_user`), so ids reveal nothing.
"""

from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, QuerySet
from django.http import Http404

from .batch import fetch_prepared
from .models import AlertChannel, Backup, Operation, Preview, PreviewChange, Site, Snapshot

Person = AbstractBaseUser | AnonymousUser


def as_uuid(value: Any) -> UUID | None:
    """An id from a URL or a form as a UUID, or None when it is not one (every lookup by such an
    id answers None or 404 for it, as for an id of nobody's)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


def visible_sites(person: Person) -> QuerySet[Site]:
    """The sites this person may see (the dashboard, and every poll's version read)."""
    return Site.objects.filter(owner_id=person.pk)


def sites_to_view(person: Person) -> list[Site]:
    """The sites this person may see, in the dashboard's order, each carrying the owner's time
    zone (`owner_time_zone`, as `site_to_view`): compiled once and prepared (sites/batch.py)."""
    if person.pk is None:
        return []
    _, (found,) = fetch_prepared(
        "sites-to-view",
        [person.pk],
        build=lambda: (),
        build_models=lambda: [
            visible_sites(person).annotate(owner_time_zone=F("owner__wbm_profile__time_zone"))
        ],
    )
    return found


def visible_operations(person: Person) -> QuerySet[Operation]:
    return Operation.objects.filter(site__owner_id=person.pk)


def site_to_view(person: Person, site_id: Any) -> Site:
    """A site this person may see, or 404; it carries the owner's time zone (`owner_time_zone`,
    None when never chosen), which its pages are drawn in: one query fewer per page."""
    site_id = as_uuid(site_id)
    if person.pk is None or site_id is None:
        raise Http404  # signed out, or not an id: nobody's site
    # Every page of a site reads it first: compiled once and prepared (sites/batch.py).
    _, (found,) = fetch_prepared(
        "site-to-view",
        [person.pk, site_id],
        build=lambda: (),
        build_models=lambda: [
            visible_sites(person)
            .filter(pk=site_id)
            .annotate(owner_time_zone=F("owner__wbm_profile__time_zone"))
            .order_by()[:1]  # one row by its key: the default ordering would only cost
        ],
    )
    if not found:
        raise Http404
    return found[0]


def site_to_change(person: Person, site_id: Any) -> Site:
    """A site this person may back up, restore, delete from or disconnect, or 404."""
    return site_to_view(person, site_id)


def backup_of(site: Site, backup_wix_id: str) -> Backup:
    backup = site.backups.filter(wix_id=backup_wix_id).first()
    if backup is None:
        raise Http404
    return backup


def operation_of(site: Site, operation_id: Any) -> Operation:
    operation = (
        Operation.objects.select_related("requested_by").filter(site=site, pk=operation_id).first()
    )
    if operation is None:
        raise Http404
    operation.site = site  # already read, and before the operation (as the page's version wants)
    return operation


def snapshot_of(site: Site, snapshot_id: Any) -> Snapshot:
    """One of this site's snapshots, or 404 (another site's, or owner's, or no such id)."""
    snapshot = (
        Snapshot.objects.select_related("backup", "verify_operation")
        .filter(site=site, pk=snapshot_id)
        .first()
    )
    if snapshot is None:
        raise Http404
    snapshot.site = site  # already read (the views and the engine name it)
    return snapshot


def channel_of(person: Person, channel_id: Any) -> AlertChannel:
    """One of this person's alert channels, or 404 (another owner's, or no such id)."""
    channel = AlertChannel.objects.filter(owner_id=person.pk, pk=channel_id).first()
    if channel is None:
        raise Http404
    return channel


def visible_previews(person: Person) -> QuerySet[Preview]:
    """The restore previews this person may see (their sites')."""
    return Preview.objects.filter(site__owner_id=person.pk)


def preview_of(site: Site, preview_id: Any) -> Preview:
    """One of this site's restore previews, or 404 (another site's, or owner's, or no such id)."""
    preview = (
        Preview.objects.select_related("source", "live", "backup", "operation")
        .filter(site=site, pk=preview_id)
        .first()
    )
    if preview is None:
        raise Http404
    preview.site = site
    return preview


def preview_change_of(preview: Preview, change_id: Any) -> PreviewChange:
    """One item of this preview's lists, or 404 (an id of another preview, site or owner)."""
    change = PreviewChange.objects.filter(preview=preview, pk=change_id).first()
    if change is None:
        raise Http404
    change.preview = preview
    return change


def preview_changes_of(preview: Preview, change_ids: list[Any]) -> list[PreviewChange]:
    """These items of this preview's lists, in the order given, or 404 if any one is not (an id
    of another preview, site or owner, or not a number): a form naming a stray id changes
    nothing."""
    try:
        wanted = [int(i) for i in change_ids]
    except (TypeError, ValueError):
        raise Http404 from None
    found = {
        c.pk: c
        for c in PreviewChange.objects.filter(preview=preview, pk__in=wanted).only(
            "id", "preview_id", "collection_id", "item_id", "kind"
        )
    }
    if not wanted or any(i not in found for i in wanted):
        raise Http404
    return [found[i] for i in dict.fromkeys(wanted)]
