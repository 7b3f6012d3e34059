"""Fixtures of the view tests: owners, sites and their mirror made directly in the database.

The mirror (Backup, Restoration) is what Wix last listed; the views only read it, so tests write
it as a sync would. Connecting and replacing keys talk to the emulator over real HTTP instead.
"""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sites import crypto, services
from sites.models import Backup, Operation, Restoration, Site

PASSWORD = "pw-owner-123456"
KEY = "IST.the-secret-key-of-the-shop-9f3c"
COLLECTIONS = [
    {"id": "Products", "displayName": "Products"},
    {"id": "BlogPosts", "displayName": "Blog Posts"},
    {"id": "Customers", "displayName": "Customers"},
]


@pytest.fixture
def owner(db, django_user_model):
    return django_user_model.objects.create_user("owner", password=PASSWORD)


@pytest.fixture
def outsider(db, django_user_model):
    return django_user_model.objects.create_user("outsider", password=PASSWORD)


@pytest.fixture
def owner_client(client: Client, owner) -> Client:
    client.force_login(owner)
    return client


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
    services.site_touch(site.pk)  # as the engine does with every change the pages show
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
    services.site_touch(site.pk)
    return restoration


def make_operation(site: Site, kind: str = Operation.CREATE_BACKUP, **fields: Any) -> Operation:
    operation = Operation.objects.create(site=site, kind=kind, **fields)
    services.site_touch(site.pk)
    return operation


@pytest.fixture
def site(owner) -> Site:
    return make_site(owner)
