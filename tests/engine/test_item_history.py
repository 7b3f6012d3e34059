"""One item's history, end to end: a real worker takes the snapshots and runs the restore, the
emulator over HTTP. An item edited twice shows its two older versions (newest first), and
"Restore this version" of the older one brings its value back, that item alone."""

import html

from django.test import Client
from django.urls import reverse

from sites import engine
from sites.models import Operation, RestoreRun
from wixemulator.models import EmuItem

from ..conftest import wait_finished
from .test_restore_snapshot import data, snapshot_of

ITEM = "product-0001"


def rename(creds, name: str) -> None:
    item = EmuItem.objects.get(
        collection__site__site_id=creds.site_id,
        collection__collection_id="Products",
        item_id=ITEM,
    )
    item.data = {**item.data, "name": name}
    item.save(update_fields=["data"])


def test_an_item_edited_twice_shows_two_versions_and_the_older_one_comes_back(connect, owner):
    site, creds = connect("History")
    first = snapshot_of(site, owner)
    original = data(creds, "Products")
    rename(creds, "Second name")
    second = snapshot_of(site, owner)
    rename(creds, "Third name")
    third = snapshot_of(site, owner)  # holds the live version: not a version of its own
    before_restore = data(creds, "Products")

    history = engine.item_history(site, "Products", ITEM)
    assert not history.problem and history.live["name"] == "Third name"
    assert [v.snapshot.pk for v in history.versions] == [second.pk, first.pk]
    assert [v.data["name"] for v in history.versions] == ["Second name", original[ITEM]["name"]]
    names = {d.field: d for d in history.versions[1].fields}
    assert names["name"].old == original[ITEM]["name"] and names["name"].current == "Third name"
    assert third.pk not in {v.snapshot.pk for v in history.versions}

    # The page, as the owner sees it; its "Restore this version" form of the older snapshot.
    browser = Client()
    browser.force_login(owner)
    url = reverse("sites:item_history", args=[site.pk])
    page = browser.get(url, {"collection": "Products", "item": ITEM})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert text.index(f'data-version="{second.pk}"') < text.index(f'data-version="{first.pk}"')
    action = reverse("sites:snapshot_restore", args=[site.pk, first.pk])
    assert f'action="{action}"' in text and f'value="Products {ITEM}"' in text
    answer = browser.post(
        action, {"mode": "items", "items": f"Products {ITEM}", "confirm_name": "History"}
    )
    assert answer.status_code == 302
    operation = Operation.objects.get(kind=Operation.Kind.RESTORE_SNAPSHOT, site=site)
    (operation,) = wait_finished([operation])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    run = RestoreRun.objects.get(operation=operation)
    assert run.mode == RestoreRun.Mode.ITEMS and run.safety_id is not None  # Undo is offered

    after = data(creds, "Products")
    assert after[ITEM] == original[ITEM]  # the older version is back
    assert {k: v for k, v in after.items() if k != ITEM} == {
        k: v for k, v in before_restore.items() if k != ITEM
    }  # no other item touched
