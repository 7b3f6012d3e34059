"""The objects tests build, in one place: sites and their mirror written straight into the
database (as a sync would), and emulated stores connected the way the product connects them."""

import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone

from sites import connections, crypto, engine
from sites.models import Backup, Operation, Restoration, Site
from wixemulator import services as emu

PASSWORD = "pw-owner-123456"
KEY = "IST.the-secret-key-of-the-shop-9f3c"
COLLECTIONS = [
    {"id": "Products", "displayName": "Products"},
    {"id": "BlogPosts", "displayName": "Blog Posts"},
    {"id": "Customers", "displayName": "Customers"},
]


def connect_emulated_store(
    owner: Any,
    base_url: str,
    *,
    name: str = "Store",
    backup: float = 1.0,
    restore: float = 1.0,
    delete: float = 0.5,
    items: int = 0,
) -> tuple[Site, emu.SiteCredentials]:
    """A fresh emulated store with demo content, connected with its credentials checked live.

    `backup`, `restore`, `delete`: how long the emulator takes for each (emulated seconds);
    `items`: that many more items, spread over the native collections.
    """
    creds = emu.create_site(name=name, demo_data=True, items=items)
    emu.set_delays(
        creds.site_id, backup_seconds=backup, restore_seconds=restore, delete_seconds=delete
    )
    site = connections.site_connect(
        owner=owner,
        name=name,
        wix_site_id=creds.site_id,
        api_key=creds.api_key,
        api_base_url=base_url,
    )
    return site, creds


def make_site(owner, name: str = "Candle Shop", **fields: Any) -> Site:
    values = {
        "wix_site_id": str(uuid.uuid4()),
        "secret_encrypted": crypto.encrypt(KEY),
        "secret_hint": KEY[-4:],
        "api_base_url": "https://www.wixapis.com",
        # Synced just now, so opening the page asks no refresh of Wix.
        "last_synced_at": timezone.now(),
        **fields,
    }
    return Site.objects.create(owner=owner, name=name, **values)


def make_backup(
    site: Site,
    *,
    status: str = Backup.READY,
    type: str = Backup.ON_DEMAND,
    age: timedelta = timedelta(hours=1),
    **fields: Any,
) -> Backup:
    requested = timezone.now() - age
    done = status != Backup.PENDING
    values = {
        "wix_id": str(uuid.uuid4()),
        "requested_at": requested,
        "started_at": requested,
        "finished_at": requested + timedelta(seconds=3) if done else None,
        "size_in_bytes": 1_572_864 if status == Backup.READY else None,
        "collections": COLLECTIONS,
        **fields,
    }
    backup = Backup.objects.create(site=site, status=status, type=type, **values)
    engine.site_touch(site.pk)  # as the engine does with every change the pages show
    return backup


def make_restoration(
    site: Site, backup: Backup, *, status: str = Restoration.COMPLETED, **fields: Any
) -> Restoration:
    requested = timezone.now() - timedelta(minutes=10)
    values = {
        "wix_id": str(uuid.uuid4()),
        "backup_wix_id": backup.wix_id,
        "requested_at": requested,
        "started_at": requested,
        "finished_at": requested + timedelta(seconds=5) if status != Restoration.PENDING else None,
        "restoration_collections": [{"dataCollectionId": "Products"}],
        **fields,
    }
    restoration = Restoration.objects.create(site=site, status=status, **values)
    engine.site_touch(site.pk)
    return restoration


def make_operation(
    site: Site, kind: str = Operation.Kind.CREATE_BACKUP, **fields: Any
) -> Operation:
    operation = Operation.objects.create(site=site, kind=kind, **fields)
    engine.site_touch(site.pk)
    return operation
