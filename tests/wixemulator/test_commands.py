import json
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from wixemulator.models import EmuBackup, EmuItem, EmuSite


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_prints_credentials_as_json(db):
    creds = json.loads(run("emulator_site", "create", "--name", "Shop", "--demo-data", "--json"))
    assert set(creds) == {"siteId", "apiKey", "appId", "appSecret", "instanceId"}
    site = EmuSite.objects.get(site_id=creds["siteId"])
    assert site.name == "Shop"
    assert str(site.instance_id) == creds["instanceId"]
    assert site.api_keys.get().key == creds["apiKey"]
    products = EmuItem.objects.filter(collection__site=site, collection__collection_id="Products")
    assert products.count() == 300
    assert all("stock" in p.data for p in products[:10])


def test_faults_delays_and_auto_backup(db):
    site_id = json.loads(run("emulator_site", "create", "--name", "S", "--json"))["siteId"]
    run("emulator_site", "faults", site_id, "--error-rate", "0.2", "--drop-rate", "0.1")
    run("emulator_site", "delays", site_id, "--backup-seconds", "10")
    run("emulator_site", "auto-backup", site_id)
    site = EmuSite.objects.get(site_id=site_id)
    assert (site.fault_error_rate, site.fault_drop_rate, site.backup_seconds) == (0.2, 0.1, 10)
    assert EmuBackup.objects.get(site=site).type == "AUTO"


def test_bad_arguments_are_clear_errors(db):
    with pytest.raises(CommandError, match="not a site id"):
        run("emulator_site", "faults", "nope")
    site_id = json.loads(run("emulator_site", "create", "--name", "S", "--json"))["siteId"]
    with pytest.raises(CommandError, match="between 0 and 1"):
        run("emulator_site", "faults", site_id, "--error-rate", "3")


def test_demo_setup_prints_the_login_once_and_is_idempotent(db):
    first = run("demo_setup", "--port", "8123")
    assert "Demo login created" in first
    assert "http://127.0.0.1:8123/sandbox" in first
    user = get_user_model().objects.get(username="demo")
    assert user.is_staff and not user.is_superuser
    second = run("demo_setup")
    assert "password" not in second.split("Demo login:")[1].split("\n")[0].replace(
        "password shown when it was created", ""
    )
    assert EmuSite.objects.filter(name="Demo Store").count() == 1


@pytest.mark.django_db
def test_create_with_items_spreads_them_over_the_collections_fast():
    started = time.monotonic()
    call_command("emulator_site", "create", "--name", "Big", "--demo-data", "--items", "100000")
    elapsed = time.monotonic() - started
    site = EmuSite.objects.get(name="Big")
    per_collection = dict(
        EmuItem.objects.filter(collection__site=site)
        .values_list("collection__collection_id")
        .annotate(n=Count("pk"))
    )
    assert sum(per_collection.values()) == 100_000 + 300 + 24 + 60 + 12 + 40
    assert per_collection["Events"] == 12 + 25_000
    assert elapsed < 120  # a bulk insert, not 100,000 saves
