"""Fixtures of the view tests: owners, sites and their mirror made directly in the database.

The mirror (Backup, Restoration) is what Wix last listed; the views only read it, so tests write
it as a sync would
(tests/factories.py). Connecting and replacing keys talk to the emulator over real HTTP instead.
"""

import pytest
from django.test import Client

from sites.models import Site
from tests.factories import PASSWORD, make_site


@pytest.fixture
def owner(db, django_user_model):
    return django_user_model.objects.create_user("owner", password=PASSWORD)


@pytest.fixture
def outsider(db, django_user_model):
    return django_user_model.objects.create_user("outsider", password=PASSWORD)


@pytest.fixture
def owner_client(client: Client, owner) -> Client:
    client.force_login(owner)
    return client


@pytest.fixture
def site(owner) -> Site:
    return make_site(owner)
