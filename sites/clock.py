"""The product's clock for business time: when a schedule is due, how old a copy is.

Two clocks, on purpose. This one decides by the calendar what the owner sees and is alerted
about: the schedules (the runs due, "next: tomorrow 03:00"), the stale and unreachable checks
(`rules.site_conditions`), the start of a snapshot (a copy's age, which retention buckets by).
Leases, claims, polls, backoff, syncs, operation timing and the snapshot garbage collector's grace
stay on the real clock (`timezone.now()`): they are about processes being alive, Wix answering
and files being written, which moving the calendar must not fake.

In production `now()` is exactly `timezone.now()`. In development and tests `settings.WBM_CLOCK`
may name another clock by its dotted path ("wixemulator.clock.now", allowed only with the
emulator on; the settings refuse it otherwise), imported by string so `sites` never imports the
emulator: then moving the emulator's global clock lets days pass for schedules and stale checks
as it does for Wix's AUTO backups. Such a clock may read the database: call `now()` once per
request or beat tick, never per row.
"""

from collections.abc import Callable
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


def now() -> datetime:
    """The business time: the real time unless settings.WBM_CLOCK names another clock."""
    path = getattr(settings, "WBM_CLOCK", "")
    if not path:
        return timezone.now()
    return _clock(path)()


@cache
def _clock(path: str) -> Callable[[], datetime]:
    return import_string(path)
