"""The pages' query counts, pinned (bench/page_cost.py measures them on 200 sites x 1,000 backups).

A count that grows with rows is a query per row; a count that changes at all should be a choice:
when a page needs one more (or one fewer) query on purpose, update the pin here and say why.
"""

import html
import re

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench._data import populate
from sites import engine
from sites.models import Operation, Site

# Login included (1 of each count), sessions from a shared cache as production runs them (with
# sessions in the database, each count is one more).
PINNED = {
    # The user, and the sites with the owner's time zone (access.sites_to_view).
    "dashboard": 2,
    # +1: the sites' open incidents ("needs attention"), +1 their schedules, read with their
    # state once per version.
    "dashboard, first view after every site changed": 8,
    # The site's state and its tables' rows (its snapshots too) are read once per version of the
    # site and kept (data that does not depend on who looks: pages/state.py, pages/site.py); what
    # each row offers is decided and drawn at every view, since it may differ per person (no
    # HTML is kept) ...
    "site page": 2,
    # ... the state's queries once per version (Wix's pending restorations: one query for their
    # count and their rows; a restoration's backup read with it), the snapshots taken with the
    # backups shown (one row for both), the snapshots section's one (pages/snapshots.py: the
    # newest rows with their backup, their verify and the count of the rest), the restores from
    # snapshots' one (pages/restores.py: the newest with their operation, safety snapshot,
    # source and undo's state), the site's open incidents (what "needs attention" shows) and its
    # schedules.
    # They are sent together (sites/batch.py: one round trip, and one more for the restores);
    # each is still logged and counted here.
    "site page, first view after a change": 15,
    # A poll that finds nothing new: the page's version, and nothing else (bench/live_poll.py).
    "dashboard, live fragment, nothing changed": 2,
    "site page, live fragment, nothing changed": 2,
    "operation page, live fragment, nothing changed": 2,
}


def poll_url(text: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*?hx-get="([^"]+)"', text, re.S)
    assert found, f"the page does not poll #{element_id}"
    return html.unescape(found.group(1))


def counts(client: Client, owner, site_pk) -> dict[str, int]:
    operation = Operation.objects.filter(site_id=site_pk, state=Operation.State.SUBMITTED).first()
    urls = {
        "dashboard": reverse("sites:dashboard"),
        "site page": reverse("sites:site", args=[site_pk]),
    }
    urls["dashboard, live fragment, nothing changed"] = poll_url(
        client.get(urls["dashboard"]).text, "dashboard-live"
    )
    urls["site page, live fragment, nothing changed"] = poll_url(
        client.get(urls["site page"]).text, "site-live"
    )
    urls["operation page, live fragment, nothing changed"] = poll_url(
        client.get(reverse("sites:operation", args=[site_pk, operation.pk])).text,
        "operation-live",
    )
    found = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url)
        assert answer.status_code == (204 if "nothing changed" in name else 200), name
        found[name] = len(queries)
    engine.site_touch(site_pk)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(urls["site page"]).status_code == 200
    found["site page, first view after a change"] = len(queries)
    Site.objects.filter(owner=owner).update(version=F("version") + 1)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(urls["dashboard"]).status_code == 200
    found["dashboard, first view after every site changed"] = len(queries)
    return found


@pytest.fixture
def owner_client(db, django_user_model, settings):
    # This process's memory cache is shared by every request of the test, as Redis is by every
    # process in production.
    settings.SESSION_ENGINE = "backupapp.sessions"

    def make(name: str) -> tuple[Client, object]:
        owner = django_user_model.objects.create_user(name, password="pw-owner-123456")
        client = Client()
        client.force_login(owner)
        return client, owner

    return make


def test_pages_cost_the_same_queries_for_1_site_of_3_backups_and_5_sites_of_70(owner_client):
    small_client, small = owner_client("small")
    (small_site,) = populate(small, sites=1, backups=3, restorations=2, activities=5)
    large_client, large = owner_client("large")
    large_sites = populate(large, sites=5, backups=70, restorations=5, activities=40)

    few = counts(small_client, small, small_site.pk)
    many = counts(large_client, large, large_sites[0].pk)

    assert many == few  # no query per site, backup, restoration or activity
    assert few == PINNED
