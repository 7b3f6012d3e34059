"""What a new user stumbled on (issue 19), in a real browser: each test shows the fixed page.

No worker here: sites and their mirror are written to the database as a sync would
(tests/factories.py), except where the web server of `make run` itself is what is tested.
"""

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import Browser, expect

from tests.factories import make_site
from tests.processes import ROOT, free_port, stop_process_group, wait_for

from .conftest import TIMEOUT_MS
from .test_owner_flows import sign_in


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own local server
            return True
    except OSError as error:
        return getattr(error, "code", None) is not None  # an HTTP error is an answer too


@pytest.fixture
def make_run_server(transactional_db, tmp_path) -> Iterator[str]:
    """The web server as `make run` starts it (scripts/run-env, its runserver options), on the
    test database; its URL."""
    db = connection.settings_dict
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_DEBUG", "PORT")}
    env.update(
        {
            "PORT": str(port),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            if connection.vendor == "postgresql"
            else f"sqlite:///{db['NAME']}",
        }
    )
    script = (
        '. scripts/run-env && exec "$0" manage.py runserver $RUN_WEB_OPTIONS --noreload '
        '"127.0.0.1:$PORT"'
    )
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(  # noqa: S603 - our own script and interpreter
        ["bash", "-c", script, sys.executable],  # noqa: S607
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url + "/accounts/login/"), 60, what="make run's web server")
        yield url
    finally:
        stop_process_group(process)


def test_make_run_shows_the_products_404_for_another_owners_site(
    owner, make_run_server: str, browser: Browser
):
    stranger = get_user_model().objects.create_user("stranger")
    theirs = make_site(stranger, name="Not Yours")
    context = browser.new_context(base_url=make_run_server)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(page)
        answer = page.goto(f"/sites/{theirs.pk}/")
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.locator("main")).to_contain_text("not yours to see")
        # No debug page: neither Django's URL list nor its "DEBUG = True" notice, and the
        # product's own style sheet is served (as `make run` serves static files).
        body = page.content()
        assert "DEBUG = True" not in body and "URLconf" not in body
        assert "Not Yours" not in body
        css = page.evaluate("getComputedStyle(document.querySelector('.topbar')).display")
        assert css == "flex"
    finally:
        context.close()
