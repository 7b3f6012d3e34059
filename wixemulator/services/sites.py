"""Emulated sites and their settings: credentials, durations, faults and the site's clock."""

import secrets
import uuid
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import F

from .. import demo
from ..models import EmuApiKey, EmuApp, EmuClock, EmuSite

DEFAULT_APP_NAME = "Wix Backup Manager (emulated app)"


@dataclass(frozen=True)
class SiteCredentials:
    site_id: str
    api_key: str
    app_id: str
    app_secret: str
    instance_id: str

    def as_json(self) -> dict[str, str]:
        d = asdict(self)
        return {
            "siteId": d["site_id"],
            "apiKey": d["api_key"],
            "appId": d["app_id"],
            "appSecret": d["app_secret"],
            "instanceId": d["instance_id"],
        }


def default_app() -> EmuApp:
    app = EmuApp.objects.filter(name=DEFAULT_APP_NAME).order_by("pk").first()
    if app is None:
        app = EmuApp.objects.create(name=DEFAULT_APP_NAME, app_secret=secrets.token_urlsafe(32))
    return app


def new_api_key() -> str:
    # Wix API keys are long opaque JWT-like strings; the shape only matters for realism.
    return "IST." + secrets.token_urlsafe(48)


@transaction.atomic
def create_site(*, name: str, demo_data: bool = False, items: int = 0) -> SiteCredentials:
    """A new emulated site; `demo_data` fills it like a small store, `items` adds that many more
    items spread over its native collections (the demo ones, or one made for them)."""
    if items < 0:
        raise ValueError("items must not be negative")
    app = default_app()
    site = EmuSite.objects.create(name=name, app=app)
    key = EmuApiKey.objects.create(key=new_api_key(), site=site)
    if demo_data:
        demo.fill(site)
    if items:
        demo.add_items(site, items)
    return credentials(site, api_key=key.key)


def credentials(site: EmuSite, *, api_key: str | None = None) -> SiteCredentials:
    if api_key is None:
        first = site.api_keys.filter(can_manage_backups=True).order_by("pk").first()
        api_key = first.key if first else ""
    app = site.app or default_app()
    return SiteCredentials(
        site_id=str(site.site_id),
        api_key=api_key,
        app_id=str(app.app_id),
        app_secret=app.app_secret,
        instance_id=str(site.instance_id),
    )


def add_api_key(
    site_id: str | uuid.UUID, *, can_manage_backups: bool = True, can_manage_data: bool = True
) -> str:
    site = EmuSite.objects.get(site_id=site_id)
    return EmuApiKey.objects.create(
        key=new_api_key(),
        site=site,
        can_manage_backups=can_manage_backups,
        can_manage_data=can_manage_data,
    ).key


def set_delays(
    site_id: str | uuid.UUID,
    *,
    backup_seconds: float | None = None,
    restore_seconds: float | None = None,
    delete_seconds: float | None = None,
) -> None:
    """Set the site's durations; None leaves one as it is."""
    values = {
        f"{kind}_seconds": seconds
        for kind, seconds in (
            ("backup", backup_seconds),
            ("restore", restore_seconds),
            ("delete", delete_seconds),
        )
        if seconds is not None
    }
    for field, seconds in values.items():
        if seconds < 0:
            raise ValueError(f"{field} must not be negative")
    EmuSite.objects.filter(site_id=site_id).update(**values)


def set_faults(
    site_id: str | uuid.UUID,
    *,
    error_rate: float = 0.0,
    rate_limit_rate: float = 0.0,
    delay_rate: float = 0.0,
    delay_seconds: float = 0.0,
    drop_rate: float = 0.0,
    fail_rate: float = 0.0,
    count: int | None = None,
    garbage_rate: float = 0.0,
) -> None:
    """Replace the site's faults (all zero: a healthy site)."""
    shares = {
        "error_rate": error_rate,
        "rate_limit_rate": rate_limit_rate,
        "delay_rate": delay_rate,
        "drop_rate": drop_rate,
        "garbage_rate": garbage_rate,
        "fail_rate": fail_rate,
    }
    for name, share in shares.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    if error_rate + rate_limit_rate + delay_rate + drop_rate + garbage_rate > 1.0 + 1e-9:
        raise ValueError("the request fault shares must add up to at most 1")
    if delay_seconds < 0:
        raise ValueError("delay_seconds must not be negative")
    if count is not None and count < 0:
        raise ValueError("count must not be negative")
    EmuSite.objects.filter(site_id=site_id).update(
        fault_error_rate=error_rate,
        fault_rate_limit_rate=rate_limit_rate,
        fault_delay_rate=delay_rate,
        fault_delay_seconds=delay_seconds,
        fault_drop_rate=drop_rate,
        fault_garbage_rate=garbage_rate,
        fault_fail_rate=fail_rate,
        fault_count=count,
    )


def advance_clock(site_id: str | uuid.UUID, *, seconds: float) -> None:
    """Let time pass on the site's clock (for example a week, to see an AUTO backup)."""
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    EmuSite.objects.filter(site_id=site_id).update(
        clock_offset_seconds=F("clock_offset_seconds") + seconds
    )


@transaction.atomic
def advance_all_clocks(*, seconds: float) -> float:
    """Let time pass for all of Wix: the global clock (which the product follows when
    settings.WBM_CLOCK names `wixemulator.clock.now`) and every site's clock move by the same
    amount, so AUTO backups and Wix's dates keep step with the product's now. Returns the
    global offset now, in seconds."""
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    # The row locked first: two advances at once add up rather than lose one.
    clock, _ = EmuClock.objects.select_for_update().get_or_create(pk=1)
    EmuClock.objects.filter(pk=1).update(offset_seconds=F("offset_seconds") + seconds)
    EmuSite.objects.update(clock_offset_seconds=F("clock_offset_seconds") + seconds)
    return clock.offset_seconds + seconds


def lock_site(site_id: str | uuid.UUID) -> EmuSite:
    """The site row, locked for the rest of the transaction so processes take turns on a site."""
    return EmuSite.objects.select_for_update().get(site_id=site_id)
