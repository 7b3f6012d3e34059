"""Back up a connected site from the shell, for scripts that must back up before a bulk update:

    python manage.py backup_site SITE --wait && ./run-the-bulk-update

SITE is the site's id in this app, its Wix site id, or its name. With --wait the command returns
when the backup is READY (exit 0) or has failed (exit 1, with the reason).
"""

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sites import engine, rules
from sites.models import Operation

from ._sites import find_site


class Command(BaseCommand):
    help = "Ask Wix for an on-demand backup of a connected site (optionally wait for it)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site", help="the site's id here, its Wix site id, or its name")
        parser.add_argument("--wait", action="store_true", help="return when the backup is done")
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="seconds to wait at most (default: the operation deadline)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        site = find_site(options["site"])
        plan = rules.next_backup(site)
        oldest = plan.goes
        if oldest is not None:
            how = (
                "the oldest is pinned, so this first deletes" if plan.rotate else "Wix will delete"
            )
            self.stderr.write(
                f"All {rules.slot_count()} on-demand slots are used: {how} the "
                f"{oldest.type} backup of {oldest.requested_at:%Y-%m-%d %H:%M:%S} UTC "
                f"({oldest.wix_id})."
            )
        try:
            operation = engine.operation_request(
                site=site, kind=Operation.Kind.CREATE_BACKUP, user=site.owner
            )
        except engine.OperationRefused as refusal:
            raise CommandError(f"No backup was asked: {refusal}", returncode=1) from None
        self.stdout.write(f"Backup of {site.name} requested (operation {operation.pk}).")
        if not options["wait"]:
            return
        timeout = options["timeout"] or settings.WBM_OPERATION_DEADLINE + 60
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            operation.refresh_from_db()
            if operation.state == Operation.State.SUCCEEDED:
                self.stdout.write(f"Backup {operation.backup_wix_id} is READY.")
                return
            if operation.state == Operation.State.FAILED:
                raise CommandError(f"The backup failed: {operation.error}", returncode=1)
            time.sleep(1)
        raise CommandError(
            f"Still not done after {timeout:g} s (state: {operation.get_state_display()}, "
            f"{operation.error or 'no error'}). Is a worker running?",
            returncode=3,
        )
