"""An e-mail backend that keeps messages in the database instead of sending them.

`make run` sets EMAIL_BACKEND to this (scripts/run-env), so a demo's alerts can be read on the
mailbox page (staff only) without a mail server. Never the default: a deployment sends by SMTP.
"""

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from .models import MailboxMessage

BACKEND = "sites.mailbox.MailboxBackend"


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        MailboxMessage.objects.bulk_create(
            MailboxMessage(
                from_email=message.from_email,
                to=", ".join(message.recipients()),
                subject=message.subject,
                body=message.body,
            )
            for message in email_messages
        )
        return len(email_messages)
