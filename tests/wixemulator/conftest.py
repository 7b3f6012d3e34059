from dataclasses import dataclass
from typing import Any

import pytest
import requests

from wixemulator import services as emu
from wixemulator.models import EmuCollection, EmuItem

BACKUPS = "/wix-data/v2/backups"
RESTORATIONS = "/wix-data/v2/backups/restorations"
WORK_SECONDS = 60.0


@dataclass
class WixHttp:
    """Raw HTTP to the emulator as a site's API key holder (no product code in between)."""

    base: str
    creds: emu.SiteCredentials
    session: requests.Session

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.creds.api_key, "wix-site-id": self.creds.site_id}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.session.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def create_backup(self) -> dict[str, Any]:
        answer = self.call("POST", BACKUPS, json={})
        assert answer.status_code == 200, answer.text
        return answer.json()["backup"]

    def backups(self, **params: Any) -> list[dict[str, Any]]:
        answer = self.call("GET", BACKUPS, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["backups"]

    def backup(self, backup_id: str) -> dict[str, Any]:
        return next(b for b in self.backups(**{"paging.limit": 1000}) if b["id"] == backup_id)

    def restore(self, backup_id: str, collections: list | None = None) -> requests.Response:
        if collections is None:
            return self.call("POST", f"{BACKUPS}/{backup_id}/restore", json={"backupId": backup_id})
        return self.call(
            "POST",
            f"{BACKUPS}/{backup_id}/partial-restore",
            json={"backupId": backup_id, "restorationCollections": collections},
        )

    def restorations(self, **params: Any) -> list[dict[str, Any]]:
        answer = self.call("GET", RESTORATIONS, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["restorations"]

    def delete(self, backup_id: str) -> requests.Response:
        return self.call("DELETE", f"{BACKUPS}/{backup_id}", params={"backupId": backup_id})

    def wait(self, seconds: float = WORK_SECONDS + 1) -> None:
        """Let the site's clock run on, so PENDING work finishes without sleeping."""
        emu.advance_clock(self.creds.site_id, seconds=seconds)


@pytest.fixture
def wix(emulator_url, emu_site) -> WixHttp:
    # Work takes a minute on the site's clock, so what a test sees PENDING stays PENDING however
    # slow the machine; wait() moves the clock instead of sleeping (issue 14).
    emu.set_delays(
        emu_site.site_id,
        backup_seconds=WORK_SECONDS,
        restore_seconds=WORK_SECONDS,
        delete_seconds=WORK_SECONDS,
    )
    with requests.Session() as session:
        yield WixHttp(emulator_url, emu_site, session)


def item_data(site_id: str, collection_id: str, item_id: str) -> dict[str, Any]:
    return EmuItem.objects.get(
        collection__site_id=site_id, collection__collection_id=collection_id, item_id=item_id
    ).data


def set_all(site_id: str, collection_id: str, field: str, value: Any) -> None:
    collection = EmuCollection.objects.get(site_id=site_id, collection_id=collection_id)
    items = list(collection.items.all())
    for item in items:
        item.data = {**item.data, field: value}
    EmuItem.objects.bulk_update(items, ["data"])
