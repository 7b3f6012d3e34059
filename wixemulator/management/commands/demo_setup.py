"""What `make run` needs on a fresh database: a demo login and an emulated demo site.

Idempotent: a second run creates nothing and prints where things are. The demo password is
printed only when the login is created, never stored anywhere else.
"""

import secrets
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from wixemulator import services
from wixemulator.models import EmuSite

DEMO_USER = "demo"
DEMO_SITE = "Demo Store"


class Command(BaseCommand):
    help = "Create the demo login and the emulated demo site (once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        base = f"http://127.0.0.1:{options['port']}"
        user_model = get_user_model()
        lines = ["", "=" * 72]
        if not user_model.objects.filter(username=DEMO_USER).exists():
            password = secrets.token_urlsafe(12)
            # Staff, so the demo login can also open the emulator's data pages.
            user_model.objects.create_user(DEMO_USER, password=password, is_staff=True)
            lines.append(f"Demo login created: user {DEMO_USER!r}, password {password!r}")
            lines.append("(shown only this once; change it with: manage.py changepassword demo)")
        else:
            lines.append(f"Demo login: user {DEMO_USER!r} (password shown when it was created)")
        site = EmuSite.objects.filter(name=DEMO_SITE).order_by("created_at").first()
        if site is None:
            creds = services.create_site(name=DEMO_SITE, demo_data=True)
            lines.append(f"Emulated demo site {DEMO_SITE!r} created.")
        else:
            creds = services.credentials(site)
        lines += [
            f"  Wix API base URL: {base}/sandbox",
            f"  Site id:          {creds.site_id}",
            f"  API key:          {creds.api_key}",
            f"  Emulator data:    {base}/sandbox/",
            f"Open {base}/ and sign in.",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))
