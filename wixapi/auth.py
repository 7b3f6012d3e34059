"""How the client proves who it is: a site owner's API key, or a Wix app's OAuth credentials.

Both put a raw secret in `Authorization` with no `Bearer` prefix (wix-backups-api.md,
"Authentication"). The client asks an `Auth` for headers before each request and, after a 401,
once more for fresh ones; only `AppOAuth` has anything fresher to give.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import WixProtocolError

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a secret


class TokenEndpoint(Protocol):
    """What an `Auth` needs from the client to fetch a token: its base URL and one POST."""

    @property
    def base_url(self) -> str: ...

    def post_token(self, payload: Mapping[str, str]) -> Any:
        """POST `payload` as JSON to `<base_url>/oauth2/token` and return the decoded answer."""
        ...


class Auth(Protocol):
    def headers(self, endpoint: TokenEndpoint) -> dict[str, str]:
        """Headers that authenticate the next request."""
        ...

    def headers_after_401(
        self, endpoint: TokenEndpoint, rejected: Mapping[str, str]
    ) -> dict[str, str] | None:
        """Fresh headers to try once more after `rejected` drew a 401, or None if none exist."""
        ...


class TokenCache(Protocol):
    """The subset of Django's cache API the client uses, so `django.core.cache.cache` fits.

    Shared between processes, it lets a hundred workers use one token instead of each fetching one.
    """

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: float | None) -> None: ...


class MemoryTokenCache:
    """The default `TokenCache`: this process only, honouring timeouts like Django's."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Any, float | None]] = {}

    def get(self, key: str) -> Any:
        with self._lock:
            value, expires = self._entries.get(key, (None, None))
            if expires is not None and self._clock() >= expires:
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        with self._lock:
            # As in Django: None keeps forever, 0 or less does not keep at all.
            if timeout is not None and timeout <= 0:
                self._entries.pop(key, None)
            else:
                expires = None if timeout is None else self._clock() + timeout
                self._entries[key] = (value, expires)


def _check_header_value(name: str, value: Any) -> None:
    # A CR or LF in a secret would let it write extra headers; refuse it before it is ever sent.
    if not isinstance(value, str) or not value or "\r" in value or "\n" in value:
        raise ValueError(f"{name} must be a non-empty single-line string")


@dataclass(frozen=True)
class ApiKeyAuth:
    """A site owner's API key (permission Manage Data Backups) and the site it is used on."""

    api_key: str = field(repr=False)
    site_id: str

    def __post_init__(self) -> None:
        _check_header_value("api_key", self.api_key)
        _check_header_value("site_id", self.site_id)

    def headers(self, endpoint: TokenEndpoint) -> dict[str, str]:
        return {"Authorization": self.api_key, "wix-site-id": self.site_id}

    def headers_after_401(
        self, endpoint: TokenEndpoint, rejected: Mapping[str, str]
    ) -> dict[str, str] | None:
        # The key is all we have; sending it again would draw the same 401.
        return None


class AppOAuth:
    """A Wix app's client-credentials grant for one app instance (one site).

    The token is reused until `refresh margin` before it expires (5 minutes, or a tenth of its
    lifetime when that is shorter), through `token_cache` so processes share it. After a 401 a new
    token is fetched once, unless another process already replaced the rejected one.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        instance_id: str,
        *,
        token_cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_header_value("app_id", app_id)
        _check_header_value("app_secret", app_secret)
        _check_header_value("instance_id", instance_id)
        self.app_id = app_id
        self.instance_id = instance_id
        self._app_secret = app_secret
        self._cache: TokenCache = token_cache if token_cache is not None else MemoryTokenCache()
        # Wall-clock time, not monotonic: cached expiry times are compared across processes.
        self._clock = clock
        # One fetch at a time in this process; other processes are covered by the shared cache.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AppOAuth(app_id={self.app_id!r}, instance_id={self.instance_id!r})"

    def cache_key(self, base_url: str) -> str:
        """Where the token lives in the cache: hashed (memcached keys are short and plain), and
        built without the secret so the key reveals nothing."""
        digest = hashlib.sha256(f"{base_url}\n{self.app_id}\n{self.instance_id}".encode())
        return f"wixapi:oauth:{digest.hexdigest()[:40]}"

    def headers(self, endpoint: TokenEndpoint) -> dict[str, str]:
        return {"Authorization": self._token(endpoint, rejected=None)}

    def headers_after_401(
        self, endpoint: TokenEndpoint, rejected: Mapping[str, str]
    ) -> dict[str, str] | None:
        return {"Authorization": self._token(endpoint, rejected=rejected.get("Authorization"))}

    def _token(self, endpoint: TokenEndpoint, rejected: str | None) -> str:
        key = self.cache_key(endpoint.base_url)
        with self._lock:
            cached = self._usable(self._cache.get(key))
            if cached is not None and cached != rejected:
                return cached
            answer = endpoint.post_token(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.app_id,
                    "client_secret": self._app_secret,
                    "instance_id": self.instance_id,
                }
            )
            token, lifetime = _parse_token_answer(answer)
            now = self._clock()
            refresh_at = now + lifetime - min(300.0, lifetime / 10)
            self._cache.set(
                key,
                {"access_token": token, "refresh_at": refresh_at},
                max(1, math.floor(refresh_at - now)),
            )
            return token

    def _usable(self, entry: Any) -> str | None:
        # The cache is shared and outlives code versions: trust nothing about what it holds.
        if not isinstance(entry, dict):
            return None
        token, refresh_at = entry.get("access_token"), entry.get("refresh_at")
        if not isinstance(token, str) or not isinstance(refresh_at, int | float):
            return None
        return token if self._clock() < refresh_at else None


def _parse_token_answer(answer: Any) -> tuple[str, float]:
    if not isinstance(answer, dict):
        raise WixProtocolError("token answer is not a JSON object")
    token, lifetime = answer.get("access_token"), answer.get("expires_in")
    if not isinstance(token, str) or not token or "\r" in token or "\n" in token:
        raise WixProtocolError("token answer has no usable access_token")
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
        raise WixProtocolError("token answer has no usable expires_in")
    return token, float(lifetime)
