"""Write a snapshot to a file, for scripts and off-site copies:

    python manage.py export_snapshot SNAPSHOT --out site.zip
    python manage.py export_snapshot SNAPSHOT --out products.csv --csv Products

The zip holds snapshot.json (what it holds, what is missing and why), schemas.json and, per
collection, its items as JSONL (docs/snapshots.md, "Downloads"); --csv writes one collection's
CSV. Streamed: memory stays small whatever the snapshot's size. The file is written beside its
final name and renamed into place once whole, so a failure never leaves a partial file under
that name.
"""

import os
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sites import engine, rules
from sites.snapshots import StorageError

from ._sites import find_snapshot


class Command(BaseCommand):
    help = "Write a complete snapshot to a zip file (or one collection to a CSV file)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("snapshot", help="the snapshot's id")
        parser.add_argument("--out", required=True, help="the file to write")
        parser.add_argument("--csv", metavar="COLLECTION", help="only this collection, as CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        snapshot = find_snapshot(options["snapshot"])
        reason = rules.snapshot_use_refusal(snapshot)
        if reason:
            raise CommandError(reason)
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        try:
            if options["csv"]:
                chunks = engine.snapshot_csv(snapshot, options["csv"])
            else:
                chunks = engine.snapshot_download(snapshot)
            written = _write(out, chunks)
        except KeyError:
            raise CommandError(f"The snapshot has no collection {options['csv']!r}.") from None
        except StorageError as error:
            raise CommandError(f"The snapshot could not be read: {error.message}") from None
        self.stdout.write(f"Wrote {written:,} bytes to {out}.")


def _write(out: Path, chunks: Any) -> int:
    fd, temp = tempfile.mkstemp(prefix=".export-", dir=out.parent)
    written = 0
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
                written += len(chunk)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return written
