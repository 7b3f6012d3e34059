"""A hostile or broken Wix: names with markup are escaped everywhere they appear; answers that
are not JSON, cut off, huge, or carry impossible ids fail the operation cleanly."""

import uuid
from datetime import UTC, datetime

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from sites import connections, engine
from sites.models import Backup, Operation, Site
from tests.engine.steps import take_safety
from wixemulator import api as emu_api
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuCollection, EmuItem, EmuSite

SCRIPT = "<script>alert(1)</script>"
NAME = '"><img src=x onerror=alert(2)>'
BACKUPS = "/wix-data/v2/backups"


@pytest.fixture
def owner(transactional_db):
    return get_user_model().objects.create_user("ann", password="pw-ann-123456")


@pytest.fixture
def store(emulator_url, settings, owner, tmp_path):
    """A connected emulated store whose one collection is named with markup."""
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")  # a restore's safety snapshot
    creds = emu.create_site(name="Evil Store")
    emu.set_delays(creds.site_id, backup_seconds=60, restore_seconds=60, delete_seconds=60)
    collection = EmuCollection.objects.create(
        site_id=creds.site_id, collection_id=SCRIPT, display_name=NAME
    )
    EmuItem.objects.create(collection=collection, item_id="i1", data={"title": SCRIPT})
    site = connections.site_connect(
        owner=owner,
        name="Shop",
        wix_site_id=creds.site_id,
        api_key=creds.api_key,
        api_base_url=emulator_url,
    )
    return site, creds


def advance(creds) -> None:
    emu.advance_clock(creds.site_id, seconds=61)


def drive(operation: Operation, creds) -> Operation:
    if operation.is_restore:
        take_safety(operation)  # what the snapshot worker does before a restore is sent
    engine.operation_submit(operation_id=operation.pk)
    advance(creds)
    engine.site_refresh(site_id=operation.site_id)
    operation.refresh_from_db()
    return operation


def test_collection_names_with_markup_are_escaped_on_every_page(store, owner, client):
    site, creds = store
    made = drive(engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP), creds)
    backup = site.backups.get(wix_id=made.backup_wix_id)
    assert backup.collections == [{"id": SCRIPT, "displayName": NAME}]  # kept as Wix sent it
    restore = drive(
        engine.operation_request(
            site=site,
            kind=Operation.Kind.RESTORE_PARTIAL,
            backup_wix_id=backup.wix_id,
            collections=[{"dataCollectionId": SCRIPT}],
        ),
        creds,
    )
    assert restore.state == Operation.State.SUCCEEDED

    staff = get_user_model().objects.create_user("staff", is_staff=True, is_superuser=True)
    client.force_login(owner)
    pages = [
        reverse("sites:dashboard"),
        reverse("sites:site", args=[site.pk]),
        reverse("sites:site_live", args=[site.pk]),
        reverse("sites:restore", args=[site.pk, backup.wix_id]),
        reverse("sites:delete", args=[site.pk, backup.wix_id]),
        reverse("sites:operation", args=[site.pk, restore.pk]),
        reverse("sites:operation_live", args=[site.pk, restore.pk]),
    ]
    seen_escaped = False
    for url in pages:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert SCRIPT not in answer.text and "<img src=x" not in answer.text, url
        seen_escaped |= "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert seen_escaped  # the names are shown, escaped, not dropped

    client.force_login(staff)
    emulator_pages = [
        f"/sandbox/sites/{creds.site_id}/",
        reverse("wixemulator:collection", args=[creds.site_id, SCRIPT]),
        "/admin/sites/backup/",
        f"/admin/sites/backup/{backup.pk}/change/",
        "/admin/sites/operation/",
        "/admin/sites/activity/",
    ]
    for url in emulator_pages:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert SCRIPT not in answer.text and "<img src=x" not in answer.text, url


def test_wix_error_messages_never_reach_the_owner_as_sent(owner, fake_host, settings, client):
    settings.WIX_ALLOWED_BASE_URLS = [fake_host.url]
    site = connections.site_connect(
        owner=owner,
        name="Shop",
        wix_site_id=str(uuid.uuid4()),
        api_key="IST.key",
        api_base_url=fake_host.url,
        check=False,
    )
    fake_host.answer(
        400,
        {"message": SCRIPT, "details": {"applicationError": {"code": SCRIPT, "data": {}}}},
    )
    operation = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP)
    engine.operation_submit(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.state == Operation.State.FAILED
    assert operation.error == "Wix refused the request as invalid."  # our words, not Wix's
    client.force_login(owner)
    page = client.get(reverse("sites:operation", args=[site.pk, operation.pk]))
    assert SCRIPT not in page.text


@pytest.mark.parametrize(
    "bad_id", ["<script>x</script>", "../../admin", "a" * 65, "id with spaces", "é"]
)
def test_a_listing_with_an_impossible_id_fails_the_sync_cleanly(
    owner, fake_host, settings, client, bad_id
):
    settings.WIX_ALLOWED_BASE_URLS = [fake_host.url]
    site = connections.site_connect(
        owner=owner,
        name="Shop",
        wix_site_id=str(uuid.uuid4()),
        api_key="IST.key",
        api_base_url=fake_host.url,
        check=False,
    )
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    backup = {
        "id": bad_id,
        "status": "READY",
        "type": "ON_DEMAND",
        "requestedDate": now,
        "startedDate": now,
        "finishedDate": now,
        "sizeInBytes": "10",
        "collections": [{"id": SCRIPT, "displayName": SCRIPT}],
    }
    fake_host.answer(200, {"backups": [backup], "pagingMetadata": {"count": 1, "total": 1}})
    engine.site_refresh(site_id=site.pk)
    site.refresh_from_db()
    assert site.last_sync_error == "Wix sent an answer we could not read."
    assert not Backup.objects.exists()
    client.force_login(owner)
    assert client.get(reverse("sites:site", args=[site.pk])).status_code == 200


# --- The emulator's "garbage" fault: a 200 whose body breaks the contract ---------------------


@pytest.mark.parametrize("kind", emu_api.GARBAGE_KINDS)
def test_the_garbage_fault_answers_200_with_a_body_that_is_not_the_contract_after_the_work(
    emulator_url, emu_site, monkeypatch, kind
):
    monkeypatch.setattr(emu_api, "GARBAGE_KINDS", (kind,))
    emu.set_faults(emu_site.site_id, garbage_rate=1.0, count=1)
    headers = {"Authorization": emu_site.api_key, "wix-site-id": emu_site.site_id}
    answer = requests.post(emulator_url + BACKUPS, json={}, headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.headers["X-Wix-Request-Id"]
    with pytest.raises((ValueError, KeyError)):  # not JSON, or not the answer asked for
        answer.json()["backup"]["id"]
    if kind == "huge":
        assert len(answer.content) > 4 * 1024 * 1024
    assert EmuBackup.objects.filter(site_id=emu_site.site_id).count() == 1  # it was done
    # The fault was spent: the next answer is whole.
    assert requests.get(emulator_url + BACKUPS, headers=headers, timeout=30).json()["backups"]


def test_the_garbage_fault_is_validated_and_set_from_the_command(emu_site):
    with pytest.raises(ValueError, match="at most 1"):
        emu.set_faults(emu_site.site_id, garbage_rate=0.6, error_rate=0.6)
    call_command("emulator_site", "faults", emu_site.site_id, "--garbage-rate", "0.25")
    assert EmuSite.objects.get(site_id=emu_site.site_id).fault_garbage_rate == 0.25


@pytest.mark.parametrize("kind", emu_api.GARBAGE_KINDS)
def test_a_garbled_answer_to_a_create_is_adopted_not_repeated(store, owner, monkeypatch, kind):
    site, creds = store
    monkeypatch.setattr(emu_api, "GARBAGE_KINDS", (kind,))
    emu.set_faults(creds.site_id, garbage_rate=1.0, count=1)
    operation = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP)
    engine.operation_submit(operation_id=operation.pk)
    operation.refresh_from_db()
    # Wix did make it, but we could not read the answer: not failed, never sent again; the
    # refresh adopts what Wix made (engine/landing.py).
    assert operation.state == Operation.State.SUBMITTED and operation.backup_wix_id == ""
    assert "not sent again" in operation.error
    operation = drive(operation, creds)
    assert operation.state == Operation.State.SUCCEEDED
    assert EmuBackup.objects.filter(site_id=creds.site_id).count() == 1


@pytest.mark.parametrize("kind", emu_api.GARBAGE_KINDS)
def test_a_garbled_listing_fails_the_sync_cleanly_and_keeps_the_mirror(store, monkeypatch, kind):
    site, creds = store
    drive(engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP), creds)
    mirrored = list(site.backups.values_list("wix_id", "status"))
    monkeypatch.setattr(emu_api, "GARBAGE_KINDS", (kind,))
    emu.set_faults(creds.site_id, garbage_rate=1.0, count=1)
    engine.site_refresh(site_id=site.pk)
    site = Site.objects.get(pk=site.pk)
    assert site.last_sync_error == "Wix sent an answer we could not read."
    assert list(site.backups.values_list("wix_id", "status")) == mirrored
