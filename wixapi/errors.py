"""The one family of errors a Wix call can raise.

Callers branch on two things only: the class (what went wrong) and `transient` (whether trying the
same thing again later can help; architecture.md, habit 6). Everything else is there so a person
can read it or quote it to Wix support: the HTTP status, Wix's `applicationError.code`, its message
and the `X-Wix-Request-Id`.

A POST that fails with a transient error (or with `WixProtocolError` after a 200) may still have
happened at Wix: the client never repeats it, the caller decides (habit 5).
"""

from __future__ import annotations

from typing import Any, ClassVar


class WixError(Exception):
    """Base of every error the client raises for a Wix call.

    Also raised as itself for an HTTP status no subclass covers (say 405 or 413): permanent.
    """

    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details or {}
        # Seconds Wix asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after

    def __str__(self) -> str:
        context = [f"HTTP {self.status}"] if self.status is not None else []
        if self.code:
            context.append(self.code)
        if self.request_id:
            context.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(context)})" if context else self.message


class WixValidationError(WixError):
    """400: Wix refused the input (malformed id, paging out of range, ...)."""

    @property
    def field_violations(self) -> list[dict[str, Any]]:
        """Wix's `validationError.fieldViolations`, empty when it sent none."""
        violations = self.details.get("validationError", {})
        if not isinstance(violations, dict):
            return []
        found = violations.get("fieldViolations", [])
        return [v for v in found if isinstance(v, dict)] if isinstance(found, list) else []


class WixAuthError(WixError):
    """401: the API key or app credentials are unknown or the token was refused."""


class WixPermissionError(WixError):
    """403: wrong site id, missing `wix-site-id`, or the key lacks Manage Data Backups."""


class WixNotFound(WixError):
    """404: for example BACKUP_NOT_FOUND."""


class WixConflict(WixError):
    """409 or 428: the state at Wix forbids it now (BACKUP_NOT_READY, RESTORATION_IN_PROGRESS...).

    Permanent for this request: retrying the same call at once would only get the same answer; the
    caller re-reads the state and decides.
    """


class WixRateLimited(WixError):
    """429: too many requests for this site or app instance; `retry_after` when Wix gave one."""

    transient = True


class WixServerError(WixError):
    """5xx: trouble on Wix's side."""

    transient = True


class WixUnavailable(WixError):
    """No answer: connection refused or reset, DNS failure, or a connect/read timeout."""

    transient = True


class WixProtocolError(WixError):
    """Wix answered, but not what the contract says: not JSON, cut off, wrong types, too big.

    Permanent: a body that breaks the contract is most likely a change at Wix that repeating the
    call will not fix, and it must surface instead of being retried away.
    """


def error_class_for_status(status: int) -> type[WixError]:
    """The error class for a non-200 HTTP status."""
    if status >= 500:
        return WixServerError
    return _BY_STATUS.get(status, WixError)


_BY_STATUS: dict[int, type[WixError]] = {
    400: WixValidationError,
    401: WixAuthError,
    403: WixPermissionError,
    404: WixNotFound,
    409: WixConflict,
    428: WixConflict,
    429: WixRateLimited,
}
