"""Connect a Wix site from the shell (operators, scripts, `make run`'s demo).

The API key is read from the WIX_API_KEY environment variable or standard input, never from the
command line, where other users of the machine could read it in the process list.
"""

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sites import connections
from sites.models import Site


class Command(BaseCommand):
    help = "Connect a Wix site to an owner's account (API key from $WIX_API_KEY or stdin)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--owner", required=True, help="username of the site owner")
        parser.add_argument("--name", required=True)
        parser.add_argument("--wix-site-id", required=True)
        parser.add_argument("--base-url", default="https://www.wixapis.com")
        parser.add_argument(
            "--skip-check", action="store_true", help="do not check the key with Wix now"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user {options['owner']!r}.")
        existing = Site.objects.filter(owner=owner, wix_site_id=options["wix_site_id"]).first()
        if existing is not None:
            self.stdout.write(f"{existing.name} is already connected for {owner}.")
            return
        api_key = os.environ.get("WIX_API_KEY") or sys.stdin.readline().strip()
        if not api_key:
            raise CommandError("Give the API key in WIX_API_KEY or on standard input.")
        try:
            site = connections.site_connect(
                owner=owner,
                name=options["name"],
                wix_site_id=options["wix_site_id"],
                api_key=api_key,
                api_base_url=options["base_url"],
                check=not options["skip_check"],
            )
        except connections.ConnectionProblem as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Connected {site.name} for {owner} (key ending {site.secret_hint}).")
