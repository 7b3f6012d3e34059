"""An operation's page: what was asked, by whom, and how it is going (live until final)."""

from django.urls import reverse

from sites.models import Operation, Restoration
from tests.factories import make_backup, make_operation, make_restoration, make_site


def test_a_running_restore_shows_its_restoration_live(owner_client, owner, site):
    backup = make_backup(site)
    restoration = make_restoration(site, backup, status=Restoration.PENDING)
    operation = make_operation(
        site,
        kind=Operation.Kind.RESTORE_PARTIAL,
        state=Operation.State.SUBMITTED,
        requested_by=owner,
        backup_wix_id=backup.wix_id,
        restoration_wix_id=restoration.wix_id,
        collections=[{"dataCollectionId": "Products"}],
    )
    html = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    assert "<h1>Restore chosen collections</h1>" in html
    assert "Sent to Wix" in html and "by owner" in html
    assert "On-demand backup of" in html
    assert '<dd data-restoration-status><span class="badge badge-PENDING">PENDING</span>' in html
    assert "hx-get" in html


def test_a_failed_operation_says_why_in_plain_words(owner_client, site):
    operation = make_operation(
        site,
        state=Operation.State.FAILED,
        error="Wix rejected the API key (it may have been deleted).",
    )
    html = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    assert "Why it failed" in html
    assert "Wix rejected the API key (it may have been deleted)." in html
    assert "hx-get" not in html


def test_a_restore_on_the_emulator_links_to_the_restored_collections(owner_client, owner):
    site = make_site(owner, api_base_url="http://127.0.0.1:8000/sandbox")
    backup = make_backup(site)
    operation = make_operation(
        site,
        kind=Operation.Kind.RESTORE_PARTIAL,
        state=Operation.State.SUCCEEDED,
        backup_wix_id=backup.wix_id,
        collections=[
            {"dataCollectionId": "Products"},
            {
                "dataCollectionId": "Customers",
                "restoreDestination": {"dataCollectionId": "Old Customers"},
            },
        ],
    )
    html = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    base = f"http://127.0.0.1:8000/sandbox/sites/{site.wix_site_id}/"
    assert f'href="{base}collections/Products/"' in html
    assert f'href="{base}collections/Old%20Customers/"' in html
    assert f'href="{base}"' in html
