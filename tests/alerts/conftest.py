"""Fixtures of the alerts' tests: a real SMTP server process and a real HTTP receiver, and the
worker and beat started with them in their environment."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import SmtpServer, WebhookReceiver


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path / "smtp-server")
    server.dir.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver()
    yield found
    found.close()


@pytest.fixture
def mail_settings(smtp: SmtpServer, settings, monkeypatch) -> SmtpServer:
    """This process and the worker (started after, inheriting the environment) send to `smtp`;
    webhooks to this machine are allowed (the receiver listens on 127.0.0.1)."""
    values = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "5",
        "WBM_WEBHOOK_ALLOW_PRIVATE": "1",
        "WBM_WEBHOOK_TIMEOUT": "5",
        "WBM_ALERT_SWEEP_INTERVAL": "0.5",
        "WBM_ALERT_CHECK_INTERVAL": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings.EMAIL_BACKEND = values["EMAIL_BACKEND"]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.EMAIL_TIMEOUT = 5
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = True
    return smtp


@pytest.fixture
def alert_workers(mail_settings, request):
    """The worker and beat, started once the mail settings are in the environment."""
    return request.getfixturevalue("workers")
