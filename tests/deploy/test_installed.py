"""`python -m pip install .` with the production settings: the emulator off is an emulator absent.

The project is built from a copy of this checkout and installed into a folder of its own
(`--no-deps --no-build-isolation --no-index`: the dependencies and setuptools come from the
running environment, nothing from the network). Each probe is a child process in a fresh
environment, run from outside the checkout, on its own SQLite database and VAR_DIR in a temporary
folder removed afterwards; it imports the installed copy, not this checkout (checked).
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a build needs is what pyproject.toml names; the rest is left out to keep the copy small,
# and anything stale (build/, egg-info) must not leak into the package.
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
    "tests", "bench", "docs", "node_modules",
)  # fmt: skip

# Run inside the installed project: its settings, its migrate, one request, the tables made.
PROBE = """
import json, django
django.setup()
import backupapp
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
call_command("migrate", interactive=False, verbosity=0)
print(json.dumps({
    "package": backupapp.__file__,
    "apps": settings.INSTALLED_APPS,
    "allowed": settings.WIX_ALLOWED_BASE_URLS,
    "tables": connection.introspection.table_names(),
    "sandbox": Client().get("/sandbox/").status_code,
    "admin": Client().get("/admin/login/").status_code,
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder `pip install .` put the project in."""
    work = tmp_path_factory.mktemp("installed")
    source, target = work / "source", work / "site"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--no-index", "--target", str(target), str(source),
        ],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    yield target
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """The probe's working folder: its SQLite database and VAR_DIR, removed afterwards."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def run(installed: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python ARGS` against the installed copy, with nothing of this process's environment but
    PATH (so no DJANGO_*, no test keys, no WIXEMULATOR_ENABLED from pytest-env)."""
    fresh = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(installed),
        "DJANGO_SETTINGS_MODULE": "backupapp.settings",
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "VAR_DIR": str(home / "var"),
        # The test client's host name; everything else is the production default (DEBUG off).
        "DJANGO_ALLOWED_HOSTS": "testserver",
        **env,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args], cwd=home, env=fresh, capture_output=True, text=True, timeout=300
    )


def probe(installed: Path, home: Path, **env: str) -> dict:
    keys = run(installed, home, "-m", "django", "init_keys")
    assert keys.returncode == 0, keys.stderr
    result = run(installed, home, "-c", PROBE, **env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # The installed copy answered, not this checkout (the editable install in the venv).
    assert Path(answer["package"]).is_relative_to(installed), answer["package"]
    return answer


def test_the_production_default_has_no_emulator(installed: Path, home: Path) -> None:
    answer = probe(installed, home)  # WIXEMULATOR_ENABLED unset: the production default
    assert "wixemulator" not in answer["apps"]
    assert answer["sandbox"] == 404
    # The installed project serves (with Django's own admin templates: the project's templates/
    # folder is not package data), so the 404 above is not a broken install.
    assert answer["admin"] == 200
    assert not [t for t in answer["tables"] if t.startswith("wixemulator_")]
    assert any(t.startswith("sites_") for t in answer["tables"])
    assert answer["allowed"] == ["https://www.wixapis.com"]


def test_enabled_the_emulator_is_installed_routed_and_allowed(installed: Path, home: Path) -> None:
    # The same probe sees the emulator once it is asked for: the checks above can fail.
    answer = probe(installed, home, WIXEMULATOR_ENABLED="1")
    assert "wixemulator" in answer["apps"]
    assert answer["sandbox"] != 404
    assert [t for t in answer["tables"] if t.startswith("wixemulator_")]
    assert "http://127.0.0.1:8000/sandbox" in answer["allowed"]
    # Its pages' templates travel in the wheel (pyproject.toml's package-data).
    assert (installed / "wixemulator" / "templates" / "wixemulator" / "home.html").is_file()


def test_settings_without_keys_refuse_to_start_and_say_what_to_run(
    installed: Path, home: Path
) -> None:
    result = run(installed, home, "-m", "django", "check")
    assert result.returncode != 0
    assert "manage.py init_keys" in result.stderr
    assert not (home / "var").exists()  # importing the settings wrote nothing
