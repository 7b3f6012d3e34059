import re
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse

from sites import engine
from sites.models import Activity, Backup, Operation, Profile, Restoration
from tests.factories import KEY, make_backup, make_operation, make_restoration, make_site


def page(client, site):
    answer = client.get(reverse("sites:site", args=[site.pk]))
    assert answer.status_code == 200
    return answer.text


def rows(html: str, marker: str) -> list[str]:
    return re.findall(rf'<tr {marker}="([^"]+)"', html)


def shown(value: datetime, zone: str = settings.TIME_ZONE) -> str:
    """How a backup's request time is rendered: absolute, in the zone, to the second (backups of
    the same minute read apart); the browser adds its age (ages.js)."""
    there = value.astimezone(zoneinfo.ZoneInfo(zone))
    iso = value.isoformat(timespec="milliseconds")
    return f'<time datetime="{iso}" data-age>{there.day} {there:%b %Y, %H:%M:%S}</time>'


def test_backups_are_listed_newest_first_with_type_status_size_and_collections(owner_client, site):
    old = make_backup(site, type=Backup.AUTO, age=timedelta(days=3))
    new = make_backup(site, age=timedelta(minutes=5))
    html = page(owner_client, site)
    assert rows(html, "data-backup") == [new.wix_id, old.wix_id]
    assert "Automatic" in html and "On demand" in html
    assert "1.5\xa0MB" in html  # filesizeformat of 1_572_864 bytes
    assert "Products, Blog Posts, Customers" in html
    assert '<span class="badge badge-READY">READY</span>' in html
    assert shown(new.requested_at) in html and shown(old.requested_at) in html
    assert " ago" not in html and 'class="age"' not in html  # ages are the browser's job


def test_times_are_shown_in_the_owners_time_zone(owner_client, owner, site):
    backup = make_backup(site)
    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    html = page(owner_client, site)
    assert shown(backup.requested_at, "Asia/Tokyo") in html
    assert "Times are shown in Asia/Tokyo" in html


def test_restorations_show_status_source_backup_and_collections(owner_client, site):
    backup = make_backup(site, type=Backup.AUTO, age=timedelta(days=2))
    make_restoration(
        site,
        backup,
        restoration_collections=[
            {"dataCollectionId": "Products"},
            {
                "dataCollectionId": "Customers",
                "restoreDestination": {"dataCollectionId": "OldCustomers"},
            },
        ],
    )
    html = page(owner_client, site)
    section = html[html.index('id="restorations"') :]
    assert '<span class="badge badge-COMPLETED">COMPLETED</span>' in section
    assert "Automatic, " in section
    assert "Products, Customers → OldCustomers" in section


def test_activity_log_says_who_did_what_when_and_how_it_ended(owner_client, owner, site):
    operation = make_operation(site, state=Operation.State.FAILED, requested_by=owner)
    Activity.objects.create(
        site=site,
        actor=owner,
        operation=operation,
        outcome=Activity.FAILED,
        message="Back up now: Wix rejected the API key",
    )
    html = page(owner_client, site)
    section = html[html.index('id="activity"') :]
    assert "owner" in section
    assert "Back up now: Wix rejected the API key" in section
    assert "Failed" in section
    assert reverse("sites:operation", args=[site.pk, operation.pk]) in section  # details


def test_the_key_is_never_shown_only_its_last_four_characters(owner_client, site):
    html = page(owner_client, site)
    assert KEY not in html and site.secret_encrypted not in html
    assert f"…{KEY[-4:]}" in html


def test_a_site_on_the_emulator_links_to_its_data_page(owner_client, owner):
    emulated = make_site(owner, name="Demo", api_base_url="http://127.0.0.1:8000/sandbox")
    html = page(owner_client, emulated)
    assert f'href="http://127.0.0.1:8000/sandbox/sites/{emulated.wix_site_id}/"' in html


def test_a_site_on_wix_has_no_emulator_link(owner_client, site):
    assert "Wix emulator" not in page(owner_client, site)


def test_slots_in_use_count_pending_and_ready_on_demand_backups_only(owner_client, site):
    make_backup(site)
    make_backup(site, status=Backup.PENDING, age=timedelta(seconds=5))
    make_backup(site, type=Backup.AUTO)
    make_backup(site, status=Backup.DELETED)
    assert "<span data-slots>2 of 3</span>" in page(owner_client, site)


def test_a_pending_backup_offers_neither_restore_nor_delete_and_says_why(owner_client, site):
    make_backup(site, status=Backup.PENDING)
    html = page(owner_client, site)
    assert '<button type="button" disabled' in html
    assert "Still being made" in html
    assert "/restore/" not in html and "/delete/" not in html


def test_a_backup_used_by_a_running_restore_cannot_be_deleted(owner_client, site):
    backup = make_backup(site)
    make_restoration(site, backup, status=Restoration.PENDING)
    html = page(owner_client, site)
    assert "A restore from this backup is running; delete it afterwards." in html
    assert reverse("sites:delete", args=[site.pk, backup.wix_id]) not in html
    assert "A restore of this site is already running; wait for it to end." in html


def test_a_ready_backup_offers_restore_and_delete(owner_client, site):
    backup = make_backup(site)
    html = page(owner_client, site)
    assert reverse("sites:restore", args=[site.pk, backup.wix_id]) in html
    assert reverse("sites:delete", args=[site.pk, backup.wix_id]) in html
    assert ">Restore</a>" in html and ">Delete</a>" in html and ">Back up now</button>" in html


def test_a_deleted_backup_offers_nothing(owner_client, site):
    backup = make_backup(site, status=Backup.DELETED)
    html = page(owner_client, site)
    assert reverse("sites:delete", args=[site.pk, backup.wix_id]) not in html
    assert ">Restore<" not in html


def test_activity_names_a_backup_by_its_time_in_the_owners_zone(owner_client, owner, site):
    backup = make_backup(site, age=timedelta(days=2))
    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    html = page(owner_client, site)
    section = html[html.index('id="activity"') :]
    tokyo = backup.requested_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"Restore all collections from the backup of {tokyo.day} {tokyo:%b %Y, %H:%M}" in section
    assert "UTC" not in section


def test_the_page_shows_the_newest_backups_and_links_to_all_of_them(owner_client, site):
    """Wix keeps a few backups at a time; the mirror keeps the history. The site's page draws
    the newest (BACKUPS_SHOWN) and links to the whole list, paged, where every row offers what it
    offers on the site's page (an old automatic backup can still be restored from there)."""
    from sites.pages import backups as backups_page
    from sites.pages.rows import BACKUPS_SHOWN

    oldest_auto = make_backup(site, type=Backup.AUTO, age=timedelta(days=20))
    deleted = [
        make_backup(site, status=Backup.DELETED, age=timedelta(days=10, hours=i))
        for i in range(backups_page.PAGE_SIZE)
    ]
    newest = [make_backup(site, age=timedelta(hours=i + 1)) for i in range(BACKUPS_SHOWN)]
    html = page(owner_client, site)
    assert rows(html, "data-backup") == [b.wix_id for b in newest]
    link = reverse("sites:backups", args=[site.pk])
    assert f'href="{link}" data-all-backups' in html

    first = owner_client.get(link)
    assert first.status_code == 200
    listed = rows(first.text, "data-backup")
    assert listed == [b.wix_id for b in [*newest, *deleted]][: backups_page.PAGE_SIZE]
    assert "Older →" in first.text and "← Newer" not in first.text
    second = owner_client.get(link, {"page": 2})
    assert (
        rows(second.text, "data-backup")
        == [b.wix_id for b in [*newest, *deleted, oldest_auto]][backups_page.PAGE_SIZE :]
    )
    restore = reverse("sites:restore", args=[site.pk, oldest_auto.wix_id])
    assert f'href="{restore}"' in second.text  # still restorable, one click from its page
    assert "← Newer" in second.text and "Older →" not in second.text
    assert owner_client.get(link, {"page": "x"}).status_code == 200  # the newest page


def test_a_site_with_few_backups_links_to_no_other_list(owner_client, site):
    make_backup(site)
    assert "data-all-backups" not in page(owner_client, site)
