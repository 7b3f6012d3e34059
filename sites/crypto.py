"""Encryption at rest of the secrets sites are connected with (API keys).

Fernet (authenticated encryption) from `cryptography`, with MultiFernet for rotation: the first
key of SECRETS_ENCRYPTION_KEYS encrypts, all of them decrypt.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables


class SecretUnreadable(Exception):
    """A stored secret no configured key can decrypt (the key that wrote it was removed)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SECRETS_ENCRYPTION_KEYS))


# Error reports (Django's, with DEBUG off) print the local variables of each frame: the plaintext
# of a key must not be among them.
@sensitive_variables("plaintext")
def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


@sensitive_variables()
def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("no configured encryption key can read this secret") from error


def rotate(token: str) -> str:
    """The same secret, encrypted again with the current (first) key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("no configured encryption key can read this secret") from error
