"""The admin shows the product's records read-only and never a stored key."""

import pytest
from django.urls import reverse

from sites.models import Backup, Operation, Site
from tests.factories import KEY, make_backup, make_operation


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", password="pw-admin-123456")
    client.force_login(admin)
    return client


def test_every_list_opens(admin_client, site):
    make_backup(site)
    make_operation(site)
    for model in ("site", "backup", "restoration", "operation", "activity", "profile"):
        assert admin_client.get(reverse(f"admin:sites_{model}_changelist")).status_code == 200


def test_a_sites_page_never_shows_its_key_and_cannot_be_edited(admin_client, site):
    html = admin_client.get(reverse("admin:sites_site_change", args=[site.pk])).text
    assert KEY not in html and site.secret_encrypted not in html
    assert 'name="_save"' not in html  # view only: changes go through the dashboard
    answer = admin_client.post(reverse("admin:sites_site_change", args=[site.pk]), {"name": "X"})
    assert answer.status_code == 403
    site.refresh_from_db()
    assert site.name == "Candle Shop"


def test_the_mirror_and_operations_cannot_be_added_from_the_admin(admin_client):
    assert admin_client.get(reverse("admin:sites_backup_add")).status_code == 403
    assert admin_client.get(reverse("admin:sites_operation_add")).status_code == 403
    assert not Backup.objects.exists() and not Operation.objects.exists()


def test_deleting_a_site_in_the_admin_disconnects_it(admin_client, site):
    url = reverse("admin:sites_site_delete", args=[site.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Site.objects.filter(pk=site.pk).exists()
