import pytest
from django.urls import reverse

from wixemulator import services as emu
from wixemulator.models import EmuBackup

from .conftest import item_data


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw-123456789", is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def store(db):
    return emu.create_site(name="Page Store", demo_data=True)


def test_pages_need_a_staff_login(client, django_user_model, store):
    url = reverse("wixemulator:site", args=[store.site_id])
    assert client.get(url).status_code == 302
    owner = django_user_model.objects.create_user("owner", password="pw-123456789")
    client.force_login(owner)
    assert client.get(url).status_code == 302


def test_home_lists_sites_and_site_page_lists_collections(staff_client, store):
    home = staff_client.get(reverse("wixemulator:home"))
    assert "Page Store" in home.text
    page = staff_client.get(reverse("wixemulator:site", args=[store.site_id]))
    assert page.status_code == 200
    assert "Products" in page.text and "Blog Posts" in page.text and "300" in page.text


def test_collection_page_shows_items_paged(staff_client, store):
    url = reverse("wixemulator:collection", args=[store.site_id, "Products"])
    page = staff_client.get(url)
    assert "product-0001" in page.text
    assert "Page 1 of 6" in page.text
    assert "product-0300" in staff_client.get(url + "?page=6").text


def test_edit_an_item(staff_client, store):
    url = reverse("wixemulator:item", args=[store.site_id, "Products", "product-0002"])
    assert staff_client.get(url).status_code == 200
    answer = staff_client.post(url, {"data": '{"name": "Renamed", "stock": 9}'})
    assert answer.status_code == 302
    assert item_data(store.site_id, "Products", "product-0002") == {"name": "Renamed", "stock": 9}


@pytest.mark.parametrize("bad", ["{nope", "[1, 2]", ""])
def test_edit_refuses_what_is_not_a_json_object(staff_client, store, bad):
    before = item_data(store.site_id, "Products", "product-0002")
    url = reverse("wixemulator:item", args=[store.site_id, "Products", "product-0002"])
    answer = staff_client.post(url, {"data": bad})
    assert answer.status_code == 200
    assert "errorlist" in answer.text
    assert item_data(store.site_id, "Products", "product-0002") == before


def test_bulk_change_sets_a_field_on_every_item(staff_client, store):
    url = reverse("wixemulator:bulk", args=[store.site_id, "Products"])
    answer = staff_client.post(url, {"field": "stock", "value": "0"}, follow=True)
    assert "Set stock to 0 on 300 items" in answer.text
    for n in (1, 150, 300):
        assert item_data(store.site_id, "Products", f"product-{n:04d}")["stock"] == 0


def test_bulk_change_refuses_a_bad_field_name(staff_client, store):
    url = reverse("wixemulator:bulk", args=[store.site_id, "Products"])
    answer = staff_client.post(url, {"field": "bad field!", "value": "0"})
    assert answer.status_code == 400
    assert "letters, digits and underscores" in answer.text


def test_site_page_shows_content_restored_since_the_last_api_call(staff_client, store):
    emu.set_delays(store.site_id, backup_seconds=0, restore_seconds=1)
    site = emu.EmuSite.objects.get(site_id=store.site_id)
    original = item_data(store.site_id, "Products", "product-0003")
    backup = emu.create_backup(site, site.now())
    staff_client.post(
        reverse("wixemulator:bulk", args=[store.site_id, "Products"]),
        {"field": "stock", "value": "0"},
    )
    emu.restore(site, site.now(), backup.id, None)
    emu.advance_clock(store.site_id, seconds=2)

    # No API request since: opening the page alone brings the content up to date.
    page = staff_client.get(reverse("wixemulator:collection", args=[store.site_id, "Products"]))
    assert page.status_code == 200
    assert item_data(store.site_id, "Products", "product-0003") == original


def test_auto_backup_button(staff_client, store):
    answer = staff_client.post(
        reverse("wixemulator:auto-backup", args=[store.site_id]), follow=True
    )
    assert "Wix took an automatic backup" in answer.text
    assert EmuBackup.objects.get().type == "AUTO"


def test_unknown_site_or_collection_is_404(staff_client, store):
    assert staff_client.get(reverse("wixemulator:site", args=[EmuBackup().id])).status_code == 404
    url = reverse("wixemulator:collection", args=[store.site_id, "Nope"])
    assert staff_client.get(url).status_code == 404
