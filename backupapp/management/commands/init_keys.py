"""Create the key files the settings fall back on, and the folders under VAR_DIR the app expects.

Settings only read (backupapp/settings.py, "Keys"); this command is the one writer. It is
idempotent and safe to run from several processes at once: a key file is written whole to a
private temporary file and linked into place only if none exists, so an existing key is never
replaced (replacing the Fernet key would make every stored secret unreadable).
"""

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management.base import BaseCommand


def create_key_file(path: Path, make_key: Callable[[], str]) -> bool:
    """Write `make_key()` to `path` (mode 0600) unless it already holds a key; True if written."""
    if path.is_file() and path.read_text().strip():
        return False
    # mkstemp makes the file 0600 from the start: the key is never readable by others, not even
    # for the moment between writing and a chmod.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(make_key() + "\n")
        try:
            os.link(temporary, path)  # fails if another process created it meanwhile: keep theirs
        except FileExistsError:
            if path.read_text().strip():
                return False
            os.replace(temporary, path)  # an empty file (a crash mid-write elsewhere) is no key
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)


class Command(BaseCommand):
    help = (
        "Create the secret key and encryption key files under VAR_DIR when missing (never "
        "overwrites). A DJANGO_SECRET_KEY or SECRETS_ENCRYPTION_KEYS in the environment still wins."
    )
    # The system checks read settings this command exists to provide (SECRET_KEY among them).
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        # WhiteNoise warns on every start while STATIC_ROOT is missing; collectstatic fills it.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        keys: list[tuple[Path, Callable[[], str]]] = [
            (Path(settings.SECRET_KEY_FILE), lambda: secrets.token_urlsafe(50)),
            (Path(settings.FERNET_KEY_FILE), lambda: Fernet.generate_key().decode()),
        ]
        for path, make_key in keys:
            created = create_key_file(path, make_key)
            self.stdout.write(f"{'Created' if created else 'Kept'} {path}")
