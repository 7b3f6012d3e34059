"""Finding the site or snapshot a command names, with a clear error for anything else."""

import contextlib
import uuid

from django.core.management.base import CommandError
from django.db.models import Q

from sites.models import Site, Snapshot


def find_site(raw: str) -> Site:
    """A site by its id here, its Wix site id, or its exact name; one match only."""
    match = Q(wix_site_id=raw) | Q(name=raw)
    with contextlib.suppress(ValueError):
        match |= Q(pk=uuid.UUID(raw))
    sites = list(Site.objects.filter(match).select_related("owner")[:2])
    if not sites:
        raise CommandError(f"No connected site matches {raw!r}.")
    if len(sites) > 1:
        raise CommandError(f"Several sites match {raw!r}; use the site's id here instead.")
    return sites[0]


def find_snapshot(raw: str) -> Snapshot:
    """A snapshot by its id (as `snapshot_site` prints it)."""
    try:
        key = uuid.UUID(raw)
    except ValueError:
        raise CommandError(f"{raw!r} is not a snapshot id.") from None
    snapshot = Snapshot.objects.select_related("site").filter(pk=key).first()
    if snapshot is None:
        raise CommandError(f"No snapshot has the id {raw}.")
    return snapshot
