"""A known API key, followed through the three flows (back up, restore, delete) in a real browser
with a real worker: it must appear in no page or fragment the server sends, no log line (of the
web process, the worker or beat), and no table of ours. The same run proves the pages work under
the Content-Security-Policy: the browser reports no violation.
"""

import io
import logging

import pytest
from django.core.handlers.base import BaseHandler
from django.core.management import call_command
from playwright.sync_api import Page, expect

from sites.models import Site
from wixemulator import services as emu

PASSWORD = "pw-owner-123456"  # the `owner` fixture's


@pytest.fixture
def answers(monkeypatch) -> list[tuple[str, bytes]]:
    """Every answer the server (pages, htmx fragments, the emulator) gives, as sent."""
    seen: list[tuple[str, bytes]] = []
    original = BaseHandler.get_response

    def recording(self, request):
        response = original(self, request)
        if not response.streaming:
            seen.append((request.get_full_path(), response.content))
        return response

    monkeypatch.setattr(BaseHandler, "get_response", recording)
    return seen


def test_a_known_key_leaks_nowhere_during_backup_restore_and_delete(
    workers, owner, page: Page, answers, caplog
):
    caplog.set_level(logging.DEBUG)
    creds = emu.create_site(name="Candle Shop", demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=1, restore_seconds=1, delete_seconds=0.5)
    key = creds.api_key
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )

    page.goto("/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Connect a site").click()
    page.get_by_label("Name").fill("Candle Shop")
    page.get_by_label("Wix site id").fill(creds.site_id)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Connect a site").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Candle Shop")

    page.get_by_role("button", name="Back up now").click()
    status = page.locator("tr[data-backup] [data-status]").first
    expect(status).to_have_text("READY")  # polled live: htmx works under the CSP

    page.get_by_role("link", name="Restore", exact=True).click()
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("[data-restoration-status]")).to_contain_text("COMPLETED")

    page.get_by_role("link", name="← Candle Shop").click()
    # The backup's Delete (the Snapshots table has one of its own).
    page.get_by_role("table", name="Backups").get_by_role("link", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("tr[data-backup] [data-status]").first).to_have_text("DELETED")
    page.goto("/account/")

    # The key was really used (and the hint shown) — so its absence below means something.
    site = Site.objects.get()
    assert site.secret_hint == key[-4:]
    assert any(b"Candle Shop" in body for _, body in answers)
    assert len(answers) > 20

    needles = [key.encode(), key[4:-4].encode()]  # whole, or all but the prefix and the hint
    leaks = [path for path, body in answers if any(n in body for n in needles)]
    assert leaks == []
    assert not any(n.decode() in page.content() for n in needles)
    logs = caplog.text + workers.worker.log() + workers.beat.log()
    assert "Backup" in workers.worker.log() or "succeeded" in workers.worker.log()
    assert not any(n.decode() in logs for n in needles)
    dump = io.StringIO()
    call_command("dumpdata", "--exclude", "wixemulator", stdout=dump)
    assert not any(n.decode() in dump.getvalue() for n in needles)
    assert violations == []
