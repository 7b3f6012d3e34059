"""Back up now: at once while a slot is free; after naming the victim when all 3 are used."""

from datetime import timedelta

from django.urls import reverse

from sites.models import Activity, Backup, Operation
from tests.factories import make_backup, make_operation


def back_up(client, site, **data):
    return client.post(reverse("sites:backup_now", args=[site.pk]), data)


def test_with_a_free_slot_it_asks_wix_at_once_and_returns_to_the_site(owner_client, owner, site):
    make_backup(site)
    answer = back_up(owner_client, site)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sites:site", args=[site.pk])
    operation = site.operations.get(kind=Operation.Kind.CREATE_BACKUP)
    # With the site's setting on (the default), a snapshot of the same moment is asked too.
    assert site.operations.filter(kind=Operation.Kind.SNAPSHOT).count() == 1
    assert operation.kind == Operation.Kind.CREATE_BACKUP and operation.requested_by == owner
    assert Activity.objects.get(operation=operation).message == "Back up now"
    page = owner_client.get(answer["Location"]).text
    assert "Backup requested" in page
    assert "hx-get" in page  # the page follows the new backup live


def test_the_page_shows_the_slots_in_use(owner_client, site):
    make_backup(site, age=timedelta(days=2))
    make_backup(site, status=Backup.PENDING)
    make_backup(site, type=Backup.AUTO)
    html = owner_client.get(reverse("sites:backup_now", args=[site.pk])).text
    assert "<strong data-slots>2 of 3</strong>" in html
    assert html.count('<span class="badge badge-') == 2
    assert "Wix deletes" not in html
    assert ">Back up now</button>" in html


def test_with_all_slots_used_it_names_the_backup_wix_would_delete_and_sends_nothing(
    owner_client, site
):
    oldest = make_backup(site, age=timedelta(days=3))
    make_backup(site, age=timedelta(days=2))
    make_backup(site, age=timedelta(days=1))
    make_backup(site, type=Backup.AUTO, age=timedelta(days=5))  # never evicted, not named
    answer = back_up(owner_client, site)
    assert answer.status_code == 200
    assert "All 3 on-demand slots are used" in answer.text
    when = f"{oldest.requested_at:%-d %b %Y, %H:%M:%S}"  # a backup's name reads to the second
    assert f"<strong data-evicted>on-demand backup of {when}</strong>" in answer.text
    assert f'value="{oldest.wix_id}"' in answer.text
    assert not Operation.objects.exists()


def test_confirming_the_named_backup_sends_the_request(owner_client, site):
    oldest = make_backup(site, age=timedelta(days=3))
    make_backup(site, age=timedelta(days=2))
    make_backup(site, status=Backup.PENDING)
    answer = back_up(owner_client, site, evicts=oldest.wix_id)
    assert answer.status_code == 302
    assert site.operations.get(kind=Operation.Kind.CREATE_BACKUP)


def test_a_confirmation_naming_a_backup_no_longer_first_in_line_asks_again(owner_client, site):
    named = make_backup(site, age=timedelta(days=3))
    make_backup(site, age=timedelta(days=2))
    make_backup(site, age=timedelta(days=1))
    # Meanwhile the named one was deleted and a new one made: another backup would be lost now.
    Backup.objects.filter(pk=named.pk).update(status=Backup.DELETED)
    make_backup(site, age=timedelta(minutes=1))
    answer = back_up(owner_client, site, evicts=named.wix_id)
    assert answer.status_code == 200
    assert "All 3 on-demand slots are used" in answer.text
    assert not Operation.objects.exists()


def test_a_second_click_while_a_backup_is_being_made_makes_no_second_one(owner_client, site):
    running = make_operation(site, state=Operation.State.SUBMITTED)
    answer = back_up(owner_client, site)
    assert answer.status_code == 302
    assert list(site.operations.all()) == [running]
    assert "no second one was asked" in owner_client.get(answer["Location"]).text


def test_a_confirmation_field_too_long_is_asked_again_not_an_error(owner_client, site):
    for age in (3, 2, 1):
        make_backup(site, age=timedelta(days=age))
    answer = back_up(owner_client, site, evicts="x" * 500)
    assert answer.status_code == 200 and "All 3 on-demand slots are used" in answer.text
    assert not Operation.objects.exists()
