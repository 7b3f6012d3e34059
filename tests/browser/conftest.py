"""Browser tests: Debian's Chromium driven by Playwright, against the live server, with a real
Celery worker and beat on Redis (the `engine` fixture) and the emulator standing in for Wix.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous: these wait for real work (a worker polling the emulator), never for a fixed time.
TIMEOUT_MS = 30_000
# Screenshots go to var/ on every run; WBM_UPDATE_SCREENSHOTS=1 writes the README's copy in
# docs/screenshots instead, so an ordinary test run leaves the checkout clean.
SCREENSHOTS = Path(__file__).resolve().parents[2] / (
    "docs/screenshots" if os.environ.get("WBM_UPDATE_SCREENSHOTS") else "var/screenshots"
)


# Module-scoped: Playwright's loop runs only while this module's tests do.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (scripts/services browser installs it)")
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        # Playwright's sync API runs an asyncio event loop in the test's thread, and Django then
        # refuses ORM calls there ("cannot call this from an async context") although they are
        # plain blocking calls made between browser steps, never concurrently: allowing them is
        # safe. Set only while Playwright runs (tests, fixtures and their teardown), so the rest
        # of the suite keeps Django's check.
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # Debian's own Chromium: Playwright never downloads a browser here.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        expect.set_options(timeout=TIMEOUT_MS)
        yield chromium
        chromium.close()


def _page(browser: Browser, live_server) -> tuple[object, Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """The site owner's browser tab."""
    context, page = _page(browser, live_server)
    yield page
    context.close()


@pytest.fixture
def staff_page(browser: Browser, live_server, django_user_model) -> Iterator[Page]:
    """A second browser, signed in as staff, for the emulator's data pages (not the owner's)."""
    staff = django_user_model.objects.create_user("emulator-staff", is_staff=True)
    client = Client()
    client.force_login(staff)
    context, page = _page(browser, live_server)
    cookie = settings.SESSION_COOKIE_NAME
    context.add_cookies(
        [{"name": cookie, "value": client.cookies[cookie].value, "url": live_server.url}]
    )
    yield page
    context.close()
