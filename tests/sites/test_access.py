"""Every URL that names a site, backup or operation is the owner's alone: others get a 404."""

import pytest
from django.test import Client
from django.urls import reverse

from sites.models import Operation, Site
from tests.factories import make_backup, make_operation, make_site


@pytest.fixture
def theirs(outsider):
    """Another owner's site, with a READY backup and an operation."""
    site = make_site(outsider, name="Their Shop")
    return site, make_backup(site), make_operation(site)


def urls_naming(site, backup, operation) -> list[str]:
    return [
        reverse("sites:site", args=[site.pk]),
        reverse("sites:site_live", args=[site.pk]),
        reverse("sites:backup_now", args=[site.pk]),
        reverse("sites:replace_key", args=[site.pk]),
        reverse("sites:disconnect", args=[site.pk]),
        reverse("sites:restore", args=[site.pk, backup.wix_id]),
        reverse("sites:delete", args=[site.pk, backup.wix_id]),
        reverse("sites:operation", args=[site.pk, operation.pk]),
        reverse("sites:operation_live", args=[site.pk, operation.pk]),
    ]


def test_an_outsider_gets_404_on_every_url_naming_another_owners_things(owner_client, theirs):
    site, backup, operation = theirs
    for url in urls_naming(site, backup, operation):
        assert owner_client.get(url).status_code == 404, url
        posted = owner_client.post(url, {"confirm_name": "Their Shop", "collections": ["Products"]})
        assert posted.status_code in (404, 405), url
    # Nothing was asked of Wix for them, and their site is still connected.
    assert list(Operation.objects.values_list("pk", flat=True)) == [operation.pk]
    assert Site.objects.filter(pk=site.pk).exists()


def test_another_owners_backup_or_operation_under_ones_own_site_is_a_404(
    owner_client, site, theirs
):
    _, backup, operation = theirs
    for url in [
        reverse("sites:restore", args=[site.pk, backup.wix_id]),
        reverse("sites:delete", args=[site.pk, backup.wix_id]),
        reverse("sites:operation", args=[site.pk, operation.pk]),
        reverse("sites:operation_live", args=[site.pk, operation.pk]),
    ]:
        assert owner_client.get(url).status_code == 404, url


def test_the_other_owners_site_is_not_on_the_dashboard(owner_client, site, theirs):
    html = owner_client.get(reverse("sites:dashboard")).text
    assert site.name in html and "Their Shop" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/sites/not-a-uuid/",
        "/sites/12345/live/",
        "/sites/00000000-0000-0000-0000-000000000000/",
        "/sites/{site}/backups/no%00nul/restore/",
        "/sites/{site}/backups/{long}/delete/",
        "/sites/{site}/backups/00000000-0000-0000-0000-000000000000/restore/",
        "/sites/{site}/operations/not-a-uuid/",
        "/sites/{site}/operations/00000000-0000-0000-0000-000000000000/live/",
    ],
)
def test_malformed_or_unknown_ids_are_404_never_500(owner_client, site, path):
    url = path.format(site=site.pk, long="a" * 65)
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url).status_code in (404, 405)  # 405 where only GET is served


def post_urls(site, backup) -> list[str]:
    return [
        reverse("sites:connect"),
        reverse("sites:backup_now", args=[site.pk]),
        reverse("sites:restore", args=[site.pk, backup.wix_id]),
        reverse("sites:delete", args=[site.pk, backup.wix_id]),
        reverse("sites:replace_key", args=[site.pk]),
        reverse("sites:disconnect", args=[site.pk]),
        reverse("sites:account"),
        reverse("logout"),
    ]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(owner, site):
    backup = make_backup(site)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    for url in post_urls(site, backup):
        answer = browser.post(url, {"confirm_name": site.name, "collections": ["Products"]})
        assert answer.status_code == 403, url
        assert "This form has expired" in answer.text
    assert not Operation.objects.exists()
    assert Site.objects.filter(pk=site.pk).exists()
    assert browser.get(reverse("sites:dashboard")).status_code == 200  # still signed in


def test_a_post_with_the_csrf_token_passes(owner, site):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    page = browser.get(reverse("sites:site", args=[site.pk]))
    token = page.context["csrf_token"]
    answer = browser.post(
        reverse("sites:backup_now", args=[site.pk]), {"csrfmiddlewaretoken": str(token)}
    )
    assert answer.status_code == 302
    assert site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).count() == 1


def test_live_endpoints_and_pages_refuse_other_methods(owner_client, site):
    assert owner_client.post(reverse("sites:site_live", args=[site.pk])).status_code == 405
    assert owner_client.post(reverse("sites:dashboard_live")).status_code == 405
    assert owner_client.put(reverse("sites:site", args=[site.pk])).status_code == 405
    assert owner_client.delete(reverse("sites:backup_now", args=[site.pk])).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in_from_every_page(client, site):
    backup = make_backup(site)
    operation = make_operation(site)
    urls = [
        reverse("sites:dashboard"),
        reverse("sites:dashboard_live"),
        reverse("sites:connect"),
        reverse("sites:account"),
        *urls_naming(site, backup, operation),
    ]
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer["Location"].startswith(reverse("login") + "?next="), url
    client.post(reverse("sites:backup_now", args=[site.pk]))
    # The one made above; nothing by the anonymous POST.
    assert site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).count() == 1
