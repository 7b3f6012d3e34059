"""Reading requests the way Wix does: query strings the SDK's way, JSON bodies, bounded."""

import json
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from ..services import EmuApiError, invalid

MAX_QUERY_FIELDS = 100
MAX_FILTER_VALUES = 10
MAX_PAGE = 1000
DEFAULT_PAGE = 50
# A Data Items request body may be this big (1000 items of a few KB); beyond it Wix answers 413.
MAX_DATA_BODY = 32 * 1024 * 1024


def query_params(request: HttpRequest) -> dict[str, list[str]]:
    # Parsed here rather than through request.GET, whose too-many-fields error is Django's
    # HTML 400 page, not Wix's JSON.
    try:
        pairs = parse_qsl(
            request.META.get("QUERY_STRING", ""),
            keep_blank_values=True,
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except ValueError as error:
        raise invalid("query", "has too many parameters", "MAX_SIZE") from error
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def enum_list(params: dict[str, list[str]], name: str, allowed: tuple[str, ...]) -> list[str]:
    values = params.get(name, [])
    if len(values) > MAX_FILTER_VALUES:
        raise invalid(name, f"must hold at most {MAX_FILTER_VALUES} values", "MAX_SIZE")
    for value in values:
        if value not in allowed:
            raise invalid(name, f"has an unknown value {value[:50]!r}", "VALID_ENUM")
    return values


def int_param(params: dict[str, list[str]], name: str, default: int, maximum: int | None) -> int:
    raw = params.get(name, [""])[-1]
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise invalid(name, "must be an integer", "FORMAT") from error
    if value < 0:
        raise invalid(name, "must not be negative", "MIN")
    if maximum is not None and value > maximum:
        raise invalid(name, f"must be at most {maximum}", "MAX")
    return value


def paging(params: dict[str, list[str]]) -> tuple[int, int]:
    # Protobuf leaves an unset int as 0, so limit 0 means "the default", as on Wix.
    limit = int_param(params, "paging.limit", DEFAULT_PAGE, MAX_PAGE) or DEFAULT_PAGE
    offset = int_param(params, "paging.offset", 0, None)
    return limit, offset


def body(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig as error:
        raise invalid("body", "is too large", "MAX_SIZE") from error
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise EmuApiError(400, "The request body is not valid JSON", code="INVALID_JSON") from error
    if not isinstance(body, dict):
        raise EmuApiError(400, "The request body must be a JSON object", code="INVALID_JSON")
    return body


def data_body(request: HttpRequest) -> dict[str, Any]:
    """A Data Items request's JSON body, read past Django's upload limit up to MAX_DATA_BODY."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > MAX_DATA_BODY:
        raise EmuApiError(413, "Payload is too large", code="WDE0109")
    raw = request.read(MAX_DATA_BODY + 1)
    if len(raw) > MAX_DATA_BODY:
        raise EmuApiError(413, "Payload is too large", code="WDE0109")
    return decode_body(raw)


def decode_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        decoded = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise EmuApiError(400, "The request body is not valid JSON", code="INVALID_JSON") from error
    if not isinstance(decoded, dict):
        raise EmuApiError(400, "The request body must be a JSON object", code="INVALID_JSON")
    return decoded
