"""`Site.version`: it moves with every change an owner's page shows, and only then.

An open page polls every 2 s and is answered 204 after one query while the version it was drawn
at is current, so a change that does not move the version is a change the owner never sees (the
tab keeps the old badge). The oracle here is the pages themselves: after each step a worker takes
(driven one by one against the emulator, as in test_services.py), the site's page, the dashboard
and every operation's page are drawn again; whenever one of them differs from before the step,
the version must have moved. And a poll that only confirms what Wix said before must leave it
alone, or every open page would be redrawn at every poll.
"""

import re
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sites import connections, crypto, engine
from sites.models import Operation, Site
from wixemulator import services as emu

from .steps import take_safety

# What differs between two drawings of an unchanged page: the version itself in the poll URLs,
# the per-request CSRF mask, and the time of the last sync, which the pages deliberately do not
# redraw for (the sync time alone is not news: see engine.refresh).
VOLATILE = [
    re.compile(r'hx-get="[^"]*"'),
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(r"Last synced with Wix:.*?</div>", re.S),
]


@dataclass
class Snapshot:
    version: int
    pages: dict[str, str]


class Pages:
    """The owner's pages of one site, drawn in full (a poll without `v` is always answered)."""

    def __init__(self, owner, site: Site) -> None:
        self.site = site
        self.client = Client()
        self.client.force_login(owner)

    def _draw(self, url: str) -> str:
        answer = self.client.get(url + "?v=", headers={"HX-Request": "true"})
        assert answer.status_code == 200, url
        text = answer.text
        for pattern in VOLATILE:
            text = pattern.sub("", text)
        return text

    def snapshot(self) -> Snapshot:
        pk = self.site.pk
        pages = {
            "site page": self._draw(reverse("sites:site_live", args=[pk])),
            "dashboard": self._draw(reverse("sites:dashboard_live")),
        }
        for op in Operation.objects.filter(site_id=pk):
            url = reverse("sites:operation_live", args=[pk, op.pk])
            pages[f"operation {op.get_kind_display()} {op.pk}"] = self._draw(url)
        version = Site.objects.values_list("version", flat=True).get(pk=pk)
        return Snapshot(version, pages)

    def step(self, what: str, action, *, shows_change: bool | None = None):
        before = self.snapshot()
        result = action()
        after = self.snapshot()
        changed = sorted(
            name for name, text in after.pages.items() if before.pages.get(name) != text
        )
        if changed:
            assert after.version != before.version, (
                f"{what}: {', '.join(changed)} changed but the version did not move"
            )
        if shows_change is True:
            assert changed, f"{what}: expected the pages to show a change"
        if shows_change is False:
            assert not changed, f"{what}: expected no visible change, got {changed}"
            assert after.version == before.version, f"{what}: version moved for nothing"
        return result


def advance(creds, seconds: float = 61) -> None:
    emu.advance_clock(creds.site_id, seconds=seconds)


def test_backup_restore_and_delete_move_the_version_exactly_when_the_pages_change(store, owner):
    site, creds = store
    pages = Pages(owner, site)
    refresh = lambda: engine.site_refresh(site_id=site.pk)  # noqa: E731 - a step, named below

    pages.step("first sync", refresh)
    op = pages.step(
        "Back up now",
        lambda: engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner),
        shows_change=True,
    )
    pages.step("submit", lambda: engine.operation_submit(operation_id=op.pk), shows_change=True)
    pages.step("a poll while Wix is still working", refresh, shows_change=False)
    pages.step("another such poll", refresh, shows_change=False)
    advance(creds)
    pages.step("the poll that sees READY", refresh, shows_change=True)
    pages.step("a poll after the end", refresh, shows_change=False)
    op.refresh_from_db()
    backup_id = op.backup_wix_id

    restore = pages.step(
        "Restore",
        lambda: engine.operation_request(
            site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup_id
        ),
        shows_change=True,
    )
    pages.step(
        "submit the restore before its safety snapshot (it waits)",
        lambda: engine.operation_submit(operation_id=restore.pk),
        shows_change=True,
    )
    pages.step("the safety snapshot", lambda: take_safety(restore), shows_change=True)
    pages.step(
        "submit the restore",
        lambda: engine.operation_submit(operation_id=restore.pk),
        shows_change=True,
    )
    pages.step("a poll during the restore", refresh, shows_change=False)
    advance(creds)
    pages.step("the poll that sees COMPLETED", refresh, shows_change=True)

    delete = pages.step(
        "Delete",
        lambda: engine.operation_request(
            site=site, kind=Operation.Kind.DELETE_BACKUP, user=owner, backup_wix_id=backup_id
        ),
        shows_change=True,
    )
    pages.step("submit the delete", lambda: engine.operation_submit(operation_id=delete.pk))
    advance(creds)
    pages.step("the poll that sees it gone", refresh, shows_change=True)
    pages.step("a quiet poll", refresh, shows_change=False)


def test_wix_failing_and_recovering_moves_the_version(store, owner, settings):
    site, creds = store
    pages = Pages(owner, site)
    refresh = lambda: engine.site_refresh(site_id=site.pk)  # noqa: E731
    pages.step("first sync", refresh)

    emu.set_faults(creds.site_id, error_rate=1.0)
    op = pages.step(
        "Back up now",
        lambda: engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner),
        shows_change=True,
    )
    pages.step(
        "a submit Wix answers with 500 (retried later, problem shown)",
        lambda: engine.operation_submit(operation_id=op.pk),
        shows_change=True,
    )
    pages.step("the sync fails too", refresh, shows_change=True)
    pages.step("and fails again the same way", refresh, shows_change=False)
    emu.set_faults(creds.site_id)
    Operation.objects.filter(pk=op.pk).update(due_at=timezone.now())
    pages.step(
        "the retry goes through",
        lambda: engine.operation_submit(operation_id=op.pk),
        shows_change=True,
    )
    pages.step("the sync works again", refresh, shows_change=True)

    Site.objects.filter(pk=site.pk).update(secret_encrypted=crypto.encrypt("IST.revoked"))
    pages.step("Wix rejects the key", refresh, shows_change=True)
    pages.step(
        "the owner replaces the key",
        lambda: connections.site_replace_key(site=site, api_key=creds.api_key, user=owner),
        shows_change=True,
    )


def test_work_started_in_wix_itself_moves_the_version_when_it_shows_up(store, owner):
    site, creds = store
    pages = Pages(owner, site)
    refresh = lambda: engine.site_refresh(site_id=site.pk, full=True)  # noqa: E731
    pages.step("first sync", refresh)
    emu.take_auto_backup(creds.site_id)
    pages.step("Wix's weekly backup appears", refresh, shows_change=True)
    pages.step("nothing new", refresh, shows_change=False)
