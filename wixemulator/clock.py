"""The emulator's global clock, as the product's business clock in development and tests.

`settings.WBM_CLOCK = "wixemulator.clock.now"` (allowed only with the emulator on) makes
`sites.clock.now()` this: the real time moved by the global offset that
`services.advance_all_clocks` (the sandbox page's "Let time pass", `emulator_site advance-all`)
moves together with every emulated site's clock. So a test or demo lets days pass and the
product's schedules and stale checks see the same days as Wix's AUTO backups and dates.
"""

from datetime import datetime

from .models import global_now


def now() -> datetime:
    """The real time plus the global clock's offset (one query)."""
    return global_now()
