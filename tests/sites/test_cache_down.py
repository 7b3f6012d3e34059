"""With the shared cache down (Redis unreachable), pages and sessions keep working.

The cache only spares queries: sessions (backupapp/sessions.py), each site's state and its drawn
tables (sites/kept.py). Here every cache call fails as with an unreachable Redis.
"""

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sites.models import Backup, Operation
from tests.factories import make_backup, make_operation

from .test_live import poll_url


class DownCache(BaseCache):
    """Every call fails, as Django's Redis backend does while Redis is down."""

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    get = set = add = delete = touch = incr = has_key = clear = _down
    get_many = set_many = delete_many = _down


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {"default": {"BACKEND": "tests.sites.test_cache_down.DownCache"}}
    settings.SESSION_ENGINE = "backupapp.sessions"


def test_pages_polls_and_signing_out_work_from_the_database_alone(cache_down, owner, site):
    client = Client()
    client.force_login(owner)
    backup = make_backup(site, status=Backup.PENDING)
    make_operation(site, backup_wix_id=backup.wix_id)

    page = client.get(reverse("sites:site", args=[site.pk]))
    assert page.status_code == 200
    assert f'data-backup="{backup.wix_id}"' in page.text
    assert "<span data-slots>1 of 3</span>" in page.text
    dashboard = client.get(reverse("sites:dashboard"))
    assert dashboard.status_code == 200 and site.name in dashboard.text
    with CaptureQueriesContext(connection) as queries:
        assert client.get(poll_url(page.text, "site-live")).status_code == 204
    assert 'FROM "django_session"' in queries.captured_queries[0]["sql"]

    assert client.post(reverse("logout")).status_code < 400
    after = client.get(reverse("sites:site", args=[site.pk]))
    assert after.status_code == 302 and reverse("login") in after["Location"]


def test_with_the_cache_up_the_session_is_read_from_it(settings, owner, site):
    settings.SESSION_ENGINE = "backupapp.sessions"
    client = Client()
    client.force_login(owner)
    url = reverse("sites:site", args=[site.pk])
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
    assert client.post(reverse("logout")).status_code < 400
    assert client.get(url).status_code == 302  # signed out: gone from the cache too
    assert Operation.objects.count() == 0
