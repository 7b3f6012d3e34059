"""Authorization, generated from the URL configuration: every URL that names an object is visited
as another signed-in owner and as an anonymous visitor, and must answer 404 or send to sign-in.

Nobody has to remember to add a new URL here: the patterns are read from the resolver. A new
parameter name this file does not know fails the test until someone says which object it names
(VALUES below), so a new kind of URL cannot slip through untested.
"""

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from sites.models import (
    Alert,
    AlertChannel,
    Backup,
    BackupPin,
    Operation,
    Preview,
    PreviewChange,
    Schedule,
    Site,
    Snapshot,
)
from tests.factories import make_backup, make_operation, make_site
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuItem, EmuRestoration

SIGN_IN_PAGES = ("/accounts/login/", "/admin/login/")
# The emulated Wix API authenticates with Wix's own credentials (API keys, OAuth tokens), not
# with a session: there "refused" is Wix's 401/403, or 404 for an object of another site.
WIX_API_VIEWS = "wixemulator.api."


@dataclass(frozen=True)
class Route:
    template: str  # the URL with {name} where each parameter goes
    params: tuple[str, ...]
    lookup: str  # the view
    raw: str  # the pattern as Django joins it, to check that the URL built reaches this one


def _regex_template(regex: str) -> tuple[str, list[str]]:
    """`^sites/(?P<site_id>...)/$` -> `sites/{site_id}/`: each named group (nested parentheses
    included) becomes a placeholder; anchors go."""
    out, names, i = [], [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            depth, j = 0, i
            while True:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append("{" + name + "}")
            names.append(name)
            i = j
        else:
            out.append(regex[i])
            i += 1
    return "".join(out).lstrip("^").rstrip("$").replace("\\", ""), names


def _part(pattern: RoutePattern | RegexPattern) -> tuple[str, list[str]]:
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        names = re.findall(r"<(?:[^>:]+:)?([^>]+)>", route)
        return re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route), names
    return _regex_template(pattern.regex.pattern)


def routes(
    patterns: list | None = None, prefix: str = "/", params: tuple = (), raw: str = ""
) -> Iterator[Route]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        template, names = _part(entry.pattern)
        here = raw + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + template, params + tuple(names), here)
        elif isinstance(entry, URLPattern):
            yield Route(prefix + template, params + tuple(names), entry.lookup_str, here)


def reaches(url: str, route: Route) -> bool:
    return resolve(urlsplit(url).path).route.replace("^", "") == route.raw.replace("^", "")


@dataclass
class Victim:
    """Everything another owner has: a connected site with its mirror, and its emulated store."""

    site: Site
    backup: Backup
    operation: Operation
    emu_site_id: str
    emu_backup_id: str
    api_key: str
    snapshot: Snapshot
    channel: AlertChannel
    # A restore preview of the snapshot, with one item in its lists.
    preview: Preview | None = None
    change: PreviewChange | None = None


# Which of the victim's objects each URL parameter names. Below /sandbox/ the emulator's own
# objects; elsewhere the product's. A parameter missing here fails the test (see module doc).
VALUES: dict[str, Callable[[Victim], Any]] = {
    "site_id": lambda v: v.site.pk,
    "backup_id": lambda v: v.backup.wix_id,
    "operation_id": lambda v: v.operation.pk,
    "snapshot_id": lambda v: v.snapshot.pk,
    "channel_id": lambda v: v.channel.pk,  # an alert channel of the victim's (Alerts page)
    "preview_id": lambda v: v.preview.pk,
    "change_id": lambda v: v.change.pk,
    "collection_id": lambda v: "Products",  # a collection of the victim's snapshot
    "kind": lambda v: "backup",  # the victim's backup schedule
    "object_id": lambda v: v.site.pk,
    "id": lambda v: v.site.owner_id,  # the admin's user password page
    "content_type_id": lambda v: 1,
    "app_label": lambda v: "sites",
    "url": lambda v: f"no-such-admin-page/{v.site.pk}/",  # the admin's catch-all
}
EMULATOR_VALUES: dict[str, Callable[[Victim], Any]] = {
    "site_id": lambda v: v.emu_site_id,
    "backup_id": lambda v: v.emu_backup_id,
    "collection_id": lambda v: "Products",
    "item_id": lambda v: "product-0001",
    "rest": lambda v: f"wix-data/v3/backups/{v.emu_backup_id}",  # the API's catch-all
}


def url_for(route: Route, victim: Victim) -> str:
    table = {**VALUES, **EMULATOR_VALUES} if route.template.startswith("/sandbox/") else VALUES
    unknown = [name for name in route.params if name not in table]
    if unknown:
        pytest.fail(
            f"{route.template} names {unknown}: add to VALUES/EMULATOR_VALUES in "
            f"{__file__} which object of another owner that is, so the URL is checked"
        )
    return route.template.format(**{name: table[name](victim) for name in route.params})


def naming_routes() -> list[Route]:
    return [route for route in routes() if route.params]


@pytest.fixture
def victim(db, django_user_model) -> Victim:
    other = django_user_model.objects.create_user("victim", password="pw-victim-123456")
    creds = emu.create_site(name="Victim Store", demo_data=True)
    with transaction.atomic():
        store = emu.lock_site(creds.site_id)
        emu_backup = emu.create_backup(store, store.now())
    site = make_site(other, name="Victim Shop")
    backup = make_backup(site)
    # Complete (so every snapshot action would act on it), and unpinned (so a delete would).
    snapshot = Snapshot.objects.create(
        site=site,
        storage_id=uuid.uuid4().hex,
        state=Snapshot.State.COMPLETE,
        collections=[{"id": "Products", "status": "complete", "items": 1}],
    )
    preview = Preview.objects.create(
        site=site, source=snapshot, live=snapshot, collections=["Products"]
    )
    change = PreviewChange.objects.create(
        preview=preview, collection_id="Products", item_id="product-0001", kind="revert"
    )
    return Victim(
        site,
        backup,
        make_operation(site),
        creds.site_id,
        str(emu_backup.id),
        creds.api_key,
        snapshot,
        AlertChannel.objects.create(owner=other, kind=AlertChannel.EMAIL, target="v@example.com"),
        preview,
        change,
    )


def _is_sign_in_redirect(answer: Any) -> bool:
    if answer.status_code != 302:
        return False
    target = urlsplit(answer["Location"])
    return target.path in SIGN_IN_PAGES and "next=" in target.query


def _snapshot(victim: Victim) -> tuple:
    """What another owner's visits must leave exactly as it was."""
    site = Site.objects.filter(pk=victim.site.pk).values().first()
    return (
        site,
        list(Backup.objects.filter(site=victim.site.pk).values()),
        list(Operation.objects.filter(site=victim.site.pk).values_list("pk", "state")),
        list(Snapshot.objects.filter(site=victim.site.pk).values()),
        list(AlertChannel.objects.filter(owner=victim.site.owner_id).values()),
        Alert.objects.filter(owner=victim.site.owner_id).count(),
        list(Preview.objects.filter(site=victim.site.pk).values()),
        list(Schedule.objects.filter(site=victim.site.pk).values()),
        list(BackupPin.objects.filter(site=victim.site.pk).values()),
        list(EmuBackup.objects.filter(site=victim.emu_site_id).values("pk", "deleted_at")),
        EmuRestoration.objects.filter(site=victim.emu_site_id).count(),
        sorted(
            EmuItem.objects.filter(collection__site=victim.emu_site_id).values_list("pk", "data"),
            key=lambda row: row[0],
        )[:50],
    )


def _form_data(victim: Victim) -> dict[str, Any]:
    # What an attacker would post to make the view act: the confirmations the forms ask for.
    return {
        "confirm_name": victim.site.name,
        "confirm": str(victim.snapshot.pk),
        "mode": "merge",
        "items": "Products product-0001",
        "pinned": "1",
        "keep_last": "1",
        "daily": "0",
        "weekly": "0",
        "monthly": "0",
        "confirmed": "True",
        "collections": ["Products"],
        "field": "stock",
        "value": "0",
        "data": "{}",
        "api_key": "IST.attacker-key",
        "days": "1",
        "frequency": "daily",
        "at": "03:00",
        "weekday": "0",
    }


def test_the_generated_list_covers_the_urls_that_name_sites_backups_and_operations():
    templates = {route.template for route in naming_routes()}
    for expected in (
        "/sites/{site_id}/",
        "/sites/{site_id}/backups/{backup_id}/restore/",
        "/sites/{site_id}/operations/{operation_id}/live/",
        "/sites/{site_id}/snapshots/{snapshot_id}/download/",
        "/sites/{site_id}/snapshots/{snapshot_id}/csv/{collection_id}",
        "/sites/{site_id}/snapshots/settings/",
        "/sites/{site_id}/snapshots/{snapshot_id}/preview/",
        "/sites/{site_id}/previews/{preview_id}/items/{change_id}/",
        "/sites/{site_id}/previews/{preview_id}/restore/",
        "/sites/{site_id}/items/history/",
        "/sites/{site_id}/snapshots/{snapshot_id}/restore/",
        "/sites/{site_id}/operations/{operation_id}/undo/",
        "/sites/{site_id}/schedules/{kind}/",
        "/sandbox/sites/{site_id}/collections/{collection_id}/bulk/",
        "/sandbox/wix-data/v2/backups/{backup_id}",
        "/admin/sites/site/{object_id}/change/",
        "/alerts/channels/{channel_id}/test/",
        "/alerts/channels/{channel_id}/delete/",
        "/alerts/sites/{site_id}/",
    ):
        assert expected in templates


@pytest.mark.parametrize("actor", ["another owner", "anonymous visitor"])
def test_every_url_naming_an_object_answers_404_or_sign_in_to_anyone_but_its_owner(
    actor, victim, django_user_model
):
    browser = Client()
    if actor == "another owner":
        browser.force_login(django_user_model.objects.create_user("intruder"))
    before = _snapshot(victim)
    failures, visited = [], 0
    for route in naming_routes():
        url = url_for(route, victim)
        # The URL built must reach the pattern under test, or this test would check nothing.
        assert reaches(url, route), (url, route.raw)
        visited += 1
        wix_api = route.lookup.startswith(WIX_API_VIEWS)
        for method in ("get", "post", "delete"):
            answer = getattr(browser, method)(url, _form_data(victim) if method == "post" else None)
            if wix_api:
                ok = answer.status_code in (401, 403, 404, 405)
            elif method == "get":
                ok = answer.status_code == 404 or _is_sign_in_redirect(answer)
            else:
                # 405 where the view serves no such method: said the same for any id, so it
                # tells nothing about the object.
                ok = answer.status_code in (404, 405) or _is_sign_in_redirect(answer)
            if not ok:
                failures.append(f"{method.upper()} {url} -> {answer.status_code}")
    assert not failures, "\n".join(failures)
    assert visited >= 20
    assert _snapshot(victim) == before


def test_another_sites_api_key_reaches_none_of_the_victims_backups(victim, client):
    # The emulated Wix's own authorization: a key of one site names nothing of another.
    intruder = emu.create_site(name="Intruder Store")
    # A well-formed request (as for a partial restore), so the refusal is about whose it is.
    body = json.dumps(
        {
            "backupId": victim.emu_backup_id,
            "restorationCollections": [{"dataCollectionId": "Products"}],
        }
    )
    for route in naming_routes():
        if not route.lookup.startswith(WIX_API_VIEWS):
            continue
        url = url_for(route, victim)
        if "/items/" in url:
            url += "?dataCollectionId=Products"  # well-formed here too (Data Items reads name it)
        for site_header in (intruder.site_id, victim.emu_site_id):
            headers = {"Authorization": intruder.api_key, "wix-site-id": site_header}
            for method in ("GET", "POST", "DELETE"):
                answer = client.generic(
                    method, url, data=body, content_type="application/json", headers=headers
                )
                assert answer.status_code in (403, 404, 405), (method, url, site_header)
    assert EmuBackup.objects.get(pk=victim.emu_backup_id).delete_requested_at is None
    assert not EmuRestoration.objects.filter(site=victim.emu_site_id).exists()


# Pages anyone may open: signing in and out, the "ask the administrator" page, and the emulated
# Wix API, which checks Wix's credentials itself (401/403 without them).
PUBLIC = {
    "django.contrib.auth.views.LoginView",
    "django.contrib.auth.views.LogoutView",
    "django.views.generic.base.TemplateView",  # password_reset: words only, no form
    "django.contrib.admin.sites.AdminSite.login",
    "django.contrib.admin.sites.AdminSite.logout",
}


def test_every_other_page_sends_an_anonymous_visitor_to_sign_in(client, db):
    failures = []
    for route in routes():
        if route.params or route.lookup in PUBLIC:
            continue
        answer = client.get(route.template)
        if route.lookup.startswith(WIX_API_VIEWS):
            ok = answer.status_code in (401, 403, 405)
        else:
            ok = _is_sign_in_redirect(answer)
        if not ok:
            failures.append(f"GET {route.template} -> {answer.status_code}")
    assert not failures, "\n".join(failures)


def test_a_made_up_id_answers_exactly_like_another_owners(victim, django_user_model):
    # 404 for both, same page: an intruder cannot tell "exists but not yours" from "no such".
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("intruder"))
    theirs = browser.get(f"/sites/{victim.site.pk}/")
    made_up = browser.get(f"/sites/{uuid.uuid4()}/")
    assert theirs.status_code == made_up.status_code == 404

    def main(answer: Any) -> str:
        return answer.text.split("<main", 1)[1].split("</main>", 1)[0]

    assert main(theirs) == main(made_up)
