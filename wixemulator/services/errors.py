"""The emulator's answers other than 200, in Wix's error format (wix-backups-api.md, "Errors")."""

from typing import Any


class EmuApiError(Exception):
    """An answer other than 200, in Wix's error format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        violations: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.violations = violations
        self.headers = headers or {}
        self.data = data or {}

    def body(self) -> dict[str, Any]:
        if self.violations is not None:
            details: dict[str, Any] = {"validationError": {"fieldViolations": self.violations}}
        else:
            details = {
                "applicationError": {
                    "code": self.code or "",
                    "description": self.message,
                    "data": self.data,
                }
            }
        return {"message": self.message, "details": details}

    def item_error(self) -> dict[str, Any]:
        """The `itemMetadata.error` of a bulk result that failed with this error."""
        code = self.code or ("VALIDATION" if self.violations is not None else "")
        return {"code": code, "description": self.message, "data": self.data}


def invalid(field: str, description: str, rule: str = "FORMAT") -> EmuApiError:
    return EmuApiError(
        400,
        f"INVALID_ARGUMENT: {field} {description}",
        violations=[{"field": field, "description": description, "violatedRule": rule}],
    )
