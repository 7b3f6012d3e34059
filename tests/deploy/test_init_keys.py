"""`manage.py init_keys`: the one writer of the key files the settings fall back on."""

import io
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from backupapp.management.commands.init_keys import create_key_file


@pytest.fixture
def var_dir(settings, tmp_path: Path) -> Path:
    var = tmp_path / "var"
    settings.VAR_DIR = var
    settings.STATIC_ROOT = var / "static"
    settings.SECRET_KEY_FILE = var / "secret_key"
    settings.FERNET_KEY_FILE = var / "fernet_key"
    return var


def init_keys() -> str:
    out = io.StringIO()
    call_command("init_keys", stdout=out)
    return out.getvalue()


def test_creates_private_keys_and_the_static_folder(var_dir: Path) -> None:
    assert init_keys().count("Created") == 2
    secret, fernet = var_dir / "secret_key", var_dir / "fernet_key"
    for path in (secret, fernet):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 50
    Fernet(fernet.read_text().strip().encode())  # a usable key, or this raises
    assert (var_dir / "static").is_dir()


def test_never_replaces_a_key(var_dir: Path) -> None:
    init_keys()
    before = {name: (var_dir / name).read_text() for name in ("secret_key", "fernet_key")}
    assert init_keys().count("Kept") == 2
    assert {name: (var_dir / name).read_text() for name in before} == before
    assert sorted(p.name for p in var_dir.iterdir()) == ["fernet_key", "secret_key", "static"]


def test_an_empty_file_is_no_key(tmp_path: Path) -> None:
    # What a crash between creating and writing would leave: replaced, not trusted.
    path = tmp_path / "secret_key"
    path.write_text("")
    assert create_key_file(path, lambda: "new-key")
    assert path.read_text() == "new-key\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not create_key_file(path, lambda: "other-key")
    assert path.read_text() == "new-key\n"
