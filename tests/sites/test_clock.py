"""The product's business clock (sites/clock.py): the real time unless settings.WBM_CLOCK names
the emulator's, which the settings refuse without the emulator."""

import os
import subprocess
import sys
from datetime import timedelta

from django.utils import timezone

from sites import clock, engine
from sites.models import Backup, Incident, Operation
from tests.factories import make_backup, make_site
from tests.processes import ROOT
from wixemulator import services as emu


def test_without_the_setting_it_is_the_real_time_even_when_the_emulator_clock_moved(db, settings):
    settings.WBM_CLOCK = ""
    emu.advance_all_clocks(seconds=3 * 86400)
    before = timezone.now()
    now = clock.now()
    assert before <= now <= timezone.now()


def test_following_the_emulator_it_moves_with_the_global_clock(db, settings):
    settings.WBM_CLOCK = "wixemulator.clock.now"
    assert clock.now() - timezone.now() < timedelta(seconds=5)
    emu.advance_all_clocks(seconds=86400)
    ahead = clock.now() - timezone.now()
    assert timedelta(days=1) - timedelta(seconds=5) < ahead <= timedelta(days=1)


def load_settings(**env: str) -> subprocess.CompletedProcess:
    from django.conf import settings

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backupapp.settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "SECRETS_ENCRYPTION_KEYS": ",".join(settings.SECRETS_ENCRYPTION_KEYS),
        **env,
    }
    code = "import django\ndjango.setup()\nfrom django.conf import settings\n"
    code += "print(settings.WBM_CLOCK)"
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", code],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_settings_refuse_the_emulator_clock_without_the_emulator():
    refused = load_settings(WBM_CLOCK="wixemulator.clock.now", WIXEMULATOR_ENABLED="0")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "WBM_CLOCK='wixemulator.clock.now' needs WIXEMULATOR_ENABLED" in refused.stderr
    # The same clock with the emulator on, and the emulator off without it, load.
    allowed = load_settings(WBM_CLOCK="wixemulator.clock.now", WIXEMULATOR_ENABLED="1")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "wixemulator.clock.now"
    plain = load_settings(WBM_CLOCK="", WIXEMULATOR_ENABLED="0")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == ""


def test_the_stale_check_and_the_schedules_decide_on_the_business_clock(settings, owner):
    """Two days let pass on the emulator's clock, which the product follows: a copy one day old
    on the real clock is three days old to the stale check, and a schedule due tomorrow on the
    real clock runs now. With the real clock, neither."""
    site = make_site(owner, stale_after_days=2, snapshot_with_backup=False)
    make_backup(site, type=Backup.AUTO, age=timedelta(days=1))
    other = make_site(owner, name="Scheduled", snapshot_with_backup=False)
    make_backup(other, type=Backup.AUTO, age=timedelta(hours=1))
    schedule = engine.schedule_set(
        site=other, kind="backup", frequency="daily", at=timezone.now().time(), weekday=None,
        paused=False,
    )  # fmt: skip
    assert schedule.next_run_at > timezone.now()
    emu.advance_all_clocks(seconds=2 * 86400)

    settings.WBM_CLOCK = ""
    assert engine.incidents_check() == 0
    assert engine.schedules_run_due().ran == []

    settings.WBM_CLOCK = "wixemulator.clock.now"
    assert engine.incidents_check() >= 1
    (incident,) = Incident.objects.filter(site=site)
    assert incident.text == "The newest READY backup is 3 days old."
    assert engine.schedules_run_due().ran == [str(schedule.pk)]
    assert other.operations.get().kind == Operation.Kind.CREATE_BACKUP
    schedule.refresh_from_db()
    assert schedule.next_run_at > clock.now()
