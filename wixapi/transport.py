"""The transport every Wix client here shares: one authenticated, bounded, retried HTTP exchange.

`WixBackupsClient` (backups.py) and `WixDataClient` (data.py) are siblings on `BaseClient`; each
adds only its API's paths, bodies and parsing. What this module guarantees for both:

- Every request has explicit connect and read timeouts, and reading an answer is bounded in size
  (`max_response_bytes`) and in time (`max_response_seconds`): nothing hangs, nothing fills memory.
- GETs (and reads Wix takes as POSTs, `read_only=True`) are retried on transient errors
  (`WixUnavailable`, `WixServerError`, `WixRateLimited`) up to `max_retries` times with exponential
  backoff and jitter, waiting at least what `Retry-After` asks (or not retrying at all when it asks
  for more than `max_retry_after`).
- Writes are never retried: a create that timed out may have happened (architecture.md, habit 5).
  The one exception is a 401 with app OAuth: Wix refused the request before doing anything, so it
  is sent once more with a fresh token.
- An answer that stops part way (cut-off body, connection reset after the headers) raises
  `WixProtocolError`; no answer at all (refused, reset or timed out before the status line, or a
  body that stalls past the read timeout) raises `WixUnavailable`.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from .auth import TOKEN_PATH, Auth
from .errors import (
    WixError,
    WixProtocolError,
    WixUnavailable,
    error_class_for_status,
)
from .models import Page
from .paging import iter_offset_pages

logger = logging.getLogger("wixapi")

T = TypeVar("T")

# Bodies of error answers only feed a message; read a little and ignore the rest.
_MAX_ERROR_BODY = 64 * 1024
_MAX_MESSAGE = 300
_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")


def _product_version() -> str:
    try:
        return metadata.version("wix-backup-manager")
    except metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = (
    f"wix-backup-manager/{_product_version()} (wixapi; python-requests/{requests.__version__})"
)


class BaseClient:
    """What every Wix API client here shares, for one site (API key) or app instance (OAuth).

    Not meant to be shared between threads; make one per worker or task. Pass `session` to reuse
    connections or mount adapters; the client closes only a session it created itself.
    """

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_response_seconds: float = 60.0,
        max_response_bytes: int = 4 * 1024 * 1024,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        max_retry_after: float = 30.0,
        max_pages: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        user_agent: str = USER_AGENT,
    ) -> None:
        parts = urlsplit(base_url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
        ):
            raise ValueError("base_url must be an http(s) URL with a host and no query")
        self._base_url = base_url.rstrip("/")
        self._auth = auth
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._timeout = (connect_timeout, read_timeout)
        self._max_response_seconds = max_response_seconds
        self._max_response_bytes = max_response_bytes
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_retry_after = max_retry_after
        self._max_pages = max_pages
        self._sleep = sleep
        self._jitter = jitter
        self._user_agent = user_agent

    def __repr__(self) -> str:
        # The auth objects' own reprs leave their secrets out.
        return f"{type(self).__name__}({self._base_url!r}, auth={self._auth!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- paging ---------------------------------------------------------------------------------

    def _iter_pages(
        self,
        fetch: Callable[[int, int], Page[T]],
        page_size: int,
        identity: Callable[[T], str],
    ) -> Iterator[T]:
        return iter_offset_pages(fetch, page_size, identity, self._max_pages)

    # --- HTTP -----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[Any], T],
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        read_only: bool = False,
    ) -> T:
        """One API call: authenticated, retried if it is a GET (or a read sent as POST, such as a
        Data Items query: `read_only`), parsed from JSON by `parse`."""
        for attempt in range(self._max_retries + 1):
            try:
                return self._send_authenticated(method, path, params, json_body, parse)
            except WixError as error:
                retry = method == "GET" or read_only
                delay = self._retry_delay(error, attempt) if retry else None
                if delay is None:
                    raise
                logger.debug(
                    "wix %s %s: %s, retry %d in %.2fs",
                    method,
                    path,
                    type(error).__name__,
                    attempt + 1,
                    delay,
                )
                self._sleep(delay)
        raise AssertionError("unreachable: the last attempt raises or returns")

    def _retry_delay(self, error: WixError, attempt: int) -> float | None:
        if not error.transient or attempt >= self._max_retries:
            return None
        backoff = min(self._backoff_max, self._backoff_base * 2**attempt)
        # Half fixed, half random: never hammers at once, and spreads workers that failed together.
        delay = backoff / 2 + self._jitter() * backoff / 2
        if error.retry_after is not None:
            if error.retry_after > self._max_retry_after:
                # Blocking a worker that long is worse than letting the caller reschedule.
                return None
            delay = max(delay, error.retry_after)
        return delay

    def _send_authenticated(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]] | None,
        json_body: Any,
        parse: Callable[[Any], T],
    ) -> T:
        auth_headers = self._auth.headers(self)
        try:
            return self._send(method, path, params, json_body, auth_headers, parse)
        except WixError as error:
            if error.status != 401:
                raise
            fresh = self._auth.headers_after_401(self, auth_headers)
            if fresh is None:
                raise
            logger.debug("wix %s %s: 401, once more with fresh credentials", method, path)
            return self._send(method, path, params, json_body, fresh, parse)

    def post_token(self, payload: Mapping[str, str]) -> Any:
        """The OAuth token request `AppOAuth` makes through this client (same limits, no retry)."""
        return self._send("POST", TOKEN_PATH, None, dict(payload), {}, lambda body: body)

    def _send(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]] | None,
        json_body: Any,
        auth_headers: Mapping[str, str],
        parse: Callable[[Any], T],
    ) -> T:
        """One HTTP exchange: a 200's JSON through `parse`, else the matching WixError."""
        headers = {"User-Agent": self._user_agent, "Accept": "application/json", **auth_headers}
        data = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, separators=(",", ":")).encode()
        started = time.monotonic()
        status: int | str = "-"
        request_id: str | None = None
        try:
            try:
                response = self._session.request(
                    method,
                    self._base_url + path,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                    # A redirect is not in the contract, and following one would carry our
                    # headers to wherever it points.
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout:
                raise WixUnavailable("Wix did not answer in time") from None
            except requests.RequestException as error:
                raise WixUnavailable(f"could not reach Wix ({type(error).__name__})") from None
            with response:
                status = response.status_code
                request_id = response.headers.get("X-Wix-Request-Id")
                if status != 200:
                    raise self._error_from(response, started)
                try:
                    return parse(_decode_json(self._read(response, started)))
                except WixProtocolError as error:
                    # Whatever broke the contract, Wix support needs the request id to look.
                    error.status, error.request_id = status, request_id
                    raise
        except WixError as error:
            status = f"{status} {type(error).__name__}"
            raise
        finally:
            # Path only: the query holds nothing secret but can be long; headers and bodies
            # (keys, tokens, client secrets) are never logged.
            logger.debug(
                "wix %s %s -> %s in %.0f ms (request id %s)",
                method,
                path,
                status,
                (time.monotonic() - started) * 1000,
                request_id,
            )

    def _read(self, response: requests.Response, started: float) -> bytes:
        """The whole (decompressed) body, or WixProtocolError/WixUnavailable; bounded in bytes and
        in time, so a gigantic or trickling answer cannot hold the worker."""
        limit = self._max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise WixProtocolError(f"answer is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                # read1 returns after one socket read, so the deadline below is checked at least
                # every read timeout even when the server sends a byte at a time.
                chunk = response.raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    raise WixProtocolError(f"answer is larger than {limit} bytes")
                if time.monotonic() - started > self._max_response_seconds:
                    raise WixUnavailable(
                        f"Wix took over {self._max_response_seconds:g}s to send its answer",
                        status=response.status_code,
                        request_id=response.headers.get("X-Wix-Request-Id"),
                    )
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            raise WixUnavailable(
                "Wix stopped sending its answer",
                status=response.status_code,
                request_id=response.headers.get("X-Wix-Request-Id"),
            ) from None
        except (urllib3.exceptions.HTTPError, OSError):
            # Cut off (fewer bytes than Content-Length, a broken chunk, a reset mid-body) or
            # undecodable: Wix answered, but not with a whole body.
            raise WixProtocolError("answer was cut off or could not be decoded") from None

    def _error_from(self, response: requests.Response, started: float) -> WixError:
        """The WixError for a non-200 answer, with Wix's message and code when its body has them."""
        status = response.status_code
        request_id = response.headers.get("X-Wix-Request-Id")
        if status < 400:
            return WixProtocolError(
                f"Wix answered HTTP {status} where the contract says 200",
                status=status,
                request_id=request_id,
            )
        message, code, details = f"Wix answered HTTP {status}", None, None
        try:
            body = _decode_json(self._read_error_body(response, started))
        except WixError:
            body = None  # 5xx bodies may be empty or HTML: the status says enough.
        if isinstance(body, dict):
            if isinstance(body.get("message"), str) and body["message"].strip():
                message = body["message"].strip()[:_MAX_MESSAGE]
            if isinstance(body.get("details"), dict):
                details = body["details"]
                app_error = details.get("applicationError")
                if isinstance(app_error, dict) and isinstance(app_error.get("code"), str):
                    code = app_error["code"][:_MAX_MESSAGE]
        return error_class_for_status(status)(
            message,
            status=status,
            code=code,
            request_id=request_id,
            details=details,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )

    def _read_error_body(self, response: requests.Response, started: float) -> bytes:
        # An oversized error body is cut short rather than refused: the status is the error.
        chunks: list[bytes] = []
        size = 0
        try:
            while size < _MAX_ERROR_BODY:
                if time.monotonic() - started > self._max_response_seconds:
                    break
                chunk = response.raw.read1(_MAX_ERROR_BODY - size, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (urllib3.exceptions.HTTPError, OSError):
            return b""
        return b"".join(chunks) if size < _MAX_ERROR_BODY else b""


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        # Not JSON, not UTF-8, NaN/Infinity, absurd nesting or an integer too long to read.
        raise WixProtocolError("answer is not valid JSON") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its forms (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())
