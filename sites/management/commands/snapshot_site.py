"""Take a snapshot of a connected site from the shell, for scripts that want a copy of every
collection they hold themselves before a bulk change:

    python manage.py snapshot_site SITE --wait && ./run-the-bulk-update

SITE is the site's id in this app, its Wix site id, or its exact name. With --wait the command
prints the progress and returns when the snapshot is complete (exit 0, with its counts) or has
failed (exit 1, with the reason). A snapshot of the site already being taken is followed instead
of starting a second one.
"""

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sites import engine
from sites.models import Operation, Snapshot

from ._sites import find_site

# Long snapshots are waited for as long as they make progress; this bounds a stalled one.
DEFAULT_TIMEOUT = 6 * 3600


class Command(BaseCommand):
    help = "Take a snapshot of a connected site's collections (optionally wait for it)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site", help="the site's id here, its Wix site id, or its name")
        parser.add_argument("--wait", action="store_true", help="return when the snapshot ends")
        parser.add_argument(
            "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait at most"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        site = find_site(options["site"])
        operation = engine.snapshot_request(site=site, user=site.owner)
        snapshot = Snapshot.objects.get(operation=operation)
        self.stdout.write(f"Snapshot {snapshot.pk} of {site.name} requested.")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        shown = ""
        while time.monotonic() < deadline:
            operation.refresh_from_db()
            snapshot.refresh_from_db()
            line = _progress(snapshot)
            if line and line != shown:
                self.stdout.write(line)
                shown = line
            if operation.state == Operation.State.SUCCEEDED:
                self.stdout.write(_result(snapshot))
                return
            if operation.state == Operation.State.FAILED:
                raise CommandError(f"The snapshot failed: {operation.error}", returncode=1)
            time.sleep(0.5)
        raise CommandError(
            f"Still not done after {options['timeout']:g} s ({operation.error or 'no error'}). "
            "Is a worker consuming the snapshots queue?",
            returncode=3,
        )


def _progress(snapshot: Snapshot) -> str:
    if not snapshot.progress_collection:
        return ""
    total = f" of {snapshot.progress_total:,}" if snapshot.progress_total is not None else ""
    return f"{snapshot.progress_collection}: {snapshot.progress_items:,}{total} items"


def _result(snapshot: Snapshot) -> str:
    lines = [
        f"Snapshot {snapshot.pk} is complete: {snapshot.item_count:,} items in "
        f"{snapshot.collection_count} collections, {snapshot.new_bytes:,} new bytes stored."
    ]
    for c in snapshot.collections:
        total = f" of {c['total']:,}" if c.get("total") is not None else ""
        missing = f" (incomplete: {c['reason']})" if c.get("reason") else ""
        lines.append(f"  {c['id']}: {c['items']:,}{total} items{missing}")
    return "\n".join(lines)
