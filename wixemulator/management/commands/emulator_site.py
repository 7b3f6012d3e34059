"""Create and tune emulated Wix sites from the shell.

python manage.py emulator_site create --name "My Shop" --demo-data --json
python manage.py emulator_site create --name "Big Shop" --demo-data --items 100000
python manage.py emulator_site faults SITE_ID --error-rate 0.1 --drop-rate 0.05
python manage.py emulator_site delays SITE_ID --backup-seconds 10
python manage.py emulator_site auto-backup SITE_ID
python manage.py emulator_site advance-all --days 1   # every site's clock (and the product's,
                                                      # when it follows: settings.WBM_CLOCK)
"""

import json
import uuid
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wixemulator import services
from wixemulator.models import EmuSite


class Command(BaseCommand):
    help = "Create emulated Wix sites, set their faults and delays, take AUTO backups."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        create = sub.add_parser("create", help="create an emulated site and print its credentials")
        create.add_argument("--name", required=True)
        create.add_argument("--demo-data", action="store_true", help="fill it like a small store")
        create.add_argument(
            "--items",
            type=int,
            default=0,
            help="add N more items spread over the site's collections (100,000 take seconds)",
        )
        create.add_argument("--json", action="store_true", help="print the credentials as JSON")

        listing = sub.add_parser("list", help="list emulated sites")
        listing.add_argument("--json", action="store_true")

        creds = sub.add_parser("credentials", help="print a site's credentials as JSON")
        creds.add_argument("site", help="the site id, or its name")

        faults = sub.add_parser("faults", help="replace a site's injected faults (omitted: 0)")
        faults.add_argument("site")
        for name, text in (
            ("error-rate", "share of requests answered 500 or 503"),
            ("rate-limit-rate", "share of requests answered 429"),
            ("delay-rate", "share of requests answered late"),
            ("delay-seconds", "how late"),
            ("drop-rate", "share of requests whose connection is dropped after the work"),
            (
                "garbage-rate",
                "share of requests answered 200 with a body that is not JSON, cut off or huge "
                "(after the work)",
            ),
            ("fail-rate", "share of backups and restorations that end FAILED"),
        ):
            faults.add_argument(f"--{name}", type=float, default=0.0, help=text)
        faults.add_argument("--count", type=int, help="affect only the next COUNT requests")

        delays = sub.add_parser("delays", help="set how long a site's operations take")
        delays.add_argument("site")
        for kind in ("backup", "restore", "delete"):
            delays.add_argument(f"--{kind}-seconds", type=float)

        auto = sub.add_parser("auto-backup", help="let Wix take an AUTO backup now")
        auto.add_argument("site")

        advance = sub.add_parser("advance", help="move a site's clock forward")
        advance.add_argument("site")
        advance.add_argument("--days", type=float, default=0.0)
        advance.add_argument("--hours", type=float, default=0.0)

        everyone = sub.add_parser(
            "advance-all",
            help="move the global clock forward: every site's, and the product's when it follows",
        )
        everyone.add_argument("--days", type=float, default=0.0)
        everyone.add_argument("--hours", type=float, default=0.0)

        key = sub.add_parser("add-key", help="create another API key for a site")
        key.add_argument("site")
        key.add_argument(
            "--no-permission", action="store_true", help='without "Manage Data Backups"'
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, "do_" + action.replace("-", "_"))(options)
        except ValueError as error:
            raise CommandError(str(error)) from error

    def _site(self, raw: str, *, by_name: bool = False) -> EmuSite:
        try:
            site_id = uuid.UUID(raw)
        except ValueError as error:
            named = EmuSite.objects.filter(name=raw).order_by("created_at").first()
            if by_name and named is not None:
                return named
            raise CommandError(f"{raw!r} is not a site id (a GUID)") from error
        site = EmuSite.objects.filter(site_id=site_id).first()
        if site is None:
            raise CommandError(f"No emulated site {site_id}")
        return site

    def do_create(self, options: dict[str, Any]) -> None:
        creds = services.create_site(
            name=options["name"], demo_data=options["demo_data"], items=options["items"]
        )
        if options["json"]:
            self.stdout.write(json.dumps(creds.as_json()))
        else:
            for label, value in creds.as_json().items():
                self.stdout.write(f"{label}: {value}")

    def do_list(self, options: dict[str, Any]) -> None:
        sites = [{"siteId": str(s.site_id), "name": s.name} for s in EmuSite.objects.all()]
        if options["json"]:
            self.stdout.write(json.dumps(sites))
        else:
            for site in sites:
                self.stdout.write(f"{site['siteId']}  {site['name']}")

    def do_credentials(self, options: dict[str, Any]) -> None:
        site = self._site(options["site"], by_name=True)
        self.stdout.write(json.dumps(services.credentials(site).as_json()))

    def do_faults(self, options: dict[str, Any]) -> None:
        site = self._site(options["site"])
        services.set_faults(
            site.site_id,
            error_rate=options["error_rate"],
            rate_limit_rate=options["rate_limit_rate"],
            delay_rate=options["delay_rate"],
            delay_seconds=options["delay_seconds"],
            drop_rate=options["drop_rate"],
            garbage_rate=options["garbage_rate"],
            fail_rate=options["fail_rate"],
            count=options["count"],
        )
        self.stdout.write(f"Faults of {site.name} set.")

    def do_delays(self, options: dict[str, Any]) -> None:
        site = self._site(options["site"])
        services.set_delays(
            site.site_id,
            backup_seconds=options["backup_seconds"],
            restore_seconds=options["restore_seconds"],
            delete_seconds=options["delete_seconds"],
        )
        self.stdout.write(f"Delays of {site.name} set.")

    def do_auto_backup(self, options: dict[str, Any]) -> None:
        backup = services.take_auto_backup(self._site(options["site"]).site_id)
        self.stdout.write(f"AUTO backup {backup.id} requested.")

    def do_advance(self, options: dict[str, Any]) -> None:
        site = self._site(options["site"])
        seconds = options["days"] * 86400 + options["hours"] * 3600
        services.advance_clock(site.site_id, seconds=seconds)
        self.stdout.write(f"The clock of {site.name} moved {seconds:g} s forward.")

    def do_advance_all(self, options: dict[str, Any]) -> None:
        seconds = options["days"] * 86400 + options["hours"] * 3600
        offset = services.advance_all_clocks(seconds=seconds)
        self.stdout.write(
            f"Every clock moved {seconds:g} s forward; the global clock is {offset:g} s ahead."
        )

    def do_add_key(self, options: dict[str, Any]) -> None:
        site = self._site(options["site"])
        self.stdout.write(
            services.add_api_key(site.site_id, can_manage_backups=not options["no_permission"])
        )
