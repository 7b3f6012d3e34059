"""Re-encrypt stored API keys with the first key of SECRETS_ENCRYPTION_KEYS.

Rotation without downtime: put the new key first (keep the old one after it), deploy, run this
command, then remove the old key.
"""

from typing import Any

from django.core.management.base import BaseCommand

from sites import connections


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the current encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = connections.secrets_rotate()
        self.stdout.write(f"Re-encrypted {count} secret(s) with the current key.")
