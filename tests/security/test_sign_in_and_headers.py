"""Sign-in protection (django-axes), cookies, security headers, the CSP, and `check --deploy`."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, make_site

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner(db, django_user_model):
    return django_user_model.objects.create_user("owner", password=PASSWORD)


def sign_in(client: Client, password: str, address: str = "203.0.113.7", **extra: str):
    return client.post(
        reverse("login"),
        {"username": "owner", "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def test_repeated_wrong_passwords_lock_the_account_out_from_that_address(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    # Even the right password is refused now: guessing on cannot succeed.
    assert sign_in(client, PASSWORD).status_code == 429
    assert client.get("/").status_code == 302


def test_the_lock_out_holds_whatever_forwarded_for_header_the_client_invents(client, owner):
    # Without a proxy configured, X-Forwarded-For is the client's word: it must not reset the count.
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert sign_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", address="192.0.2.66")
    answer = sign_in(Client(), PASSWORD, address="203.0.113.7")
    assert answer.status_code == 302 and answer["Location"] == "/"


def test_a_successful_sign_in_resets_the_count(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, owner):
    page = client.get(reverse("login"))
    answer = sign_in(client, PASSWORD)
    for cookie in (page.cookies[settings.CSRF_COOKIE_NAME], answer.cookies["sessionid"]):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def test_pages_carry_a_strict_content_security_policy_and_security_headers(client, owner):
    client.force_login(owner)
    site = make_site(owner)
    for url in ["/", reverse("sites:site", args=[site.pk]), reverse("login")]:
        answer = client.get(url)
        policy = dict(
            part.strip().split(" ", 1) for part in answer["Content-Security-Policy"].split(";")
        )
        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["form-action"] == "'self'"
        assert answer["X-Frame-Options"] == "DENY"
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert answer["Referrer-Policy"] == "same-origin"
        assert answer["Cross-Origin-Opener-Policy"] == "same-origin"


def test_templates_hold_no_inline_script_style_or_event_handler():
    # A strict CSP refuses them; the browser tests prove the pages still work under it.
    offenders = []
    for folder in (ROOT / "templates", ROOT / "wixemulator" / "templates"):
        for template in folder.rglob("*.html"):
            text = re.sub(r"\{#.*?#\}", "", template.read_text())  # comments may name them
            for needle in (" style=", "<style", "<script>", " onclick=", " onload=", "hx-on"):
                if needle in text:
                    offenders.append(f"{template.relative_to(ROOT)}: {needle.strip()}")
    assert not offenders


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "backupapp.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "backups.example.com",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://backups.example.com",
            "DJANGO_HTTPS": "1",
            "WIX_ALLOWED_BASE_URLS": "https://www.wixapis.com",
            **overrides,
        }
    )
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_the_production_settings():
    result = check_deploy(production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_https_is_not_configured():
    # The same command notices a production without HTTPS: the check above is not vacuous.
    result = check_deploy(production_env(DJANGO_HTTPS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS
