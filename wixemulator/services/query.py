"""Wix Data queries: filters, sorts and paging as the emulated Data Items API applies them.

A filter or sort that names only system fields (`_id`, `_owner`, `_createdDate`, `_updatedDate`,
the ones a snapshot reads by) runs in SQL, so paging a collection of 100,000 items stays cheap.
Anything naming the item's own fields is evaluated in Python over the collection's items, with
Wix's operators and its rule that values of different types never match.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from ..models import EmuItem
from .errors import invalid

SYSTEM_COLUMNS = {
    "_id": "item_id",
    "_owner": "owner",
    "_createdDate": "created_at",
    "_updatedDate": "updated_at",
}
COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
OPERATORS = (*COMPARISONS, "$in", "$hasSome", "$hasAll", "$startsWith", "$exists")
LOGICAL = ("$and", "$or", "$not")
MAX_DEPTH = 20


def check_filter(raw: Any, field: str = "query.filter", depth: int = 0) -> dict[str, Any]:
    """The filter as given, or a 400 naming what is wrong with it."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or depth > MAX_DEPTH:
        raise invalid(field, "must be an object of field conditions", "FORMAT")
    for key, value in raw.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list):
                raise invalid(f"{field}.{key}", "must be a list of filters", "FORMAT")
            for index, part in enumerate(value):
                check_filter(part, f"{field}.{key}[{index}]", depth + 1)
        elif key == "$not":
            check_filter(value, f"{field}.$not", depth + 1)
        elif key.startswith("$"):
            raise invalid(f"{field}.{key}", "is not a Wix Data operator", "VALID_ENUM")
        elif isinstance(value, dict) and any(k.startswith("$") for k in value):
            if "$date" in value and len(value) == 1:
                continue  # a date value: equality
            for op, operand in value.items():
                if op not in OPERATORS:
                    raise invalid(f"{field}.{key}.{op}", "is not a Wix Data operator", "VALID_ENUM")
                if op in ("$in", "$hasSome", "$hasAll") and not isinstance(operand, list):
                    raise invalid(f"{field}.{key}.{op}", "must be a list", "FORMAT")
                if op == "$startsWith" and not isinstance(operand, str):
                    raise invalid(f"{field}.{key}.{op}", "must be a string", "FORMAT")
    return raw


def check_sort(raw: Any) -> list[tuple[str, bool]]:
    """[(field, descending)] from Wix's `[{"fieldName", "order"}]`."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 10:
        raise invalid("query.sort", "must be a list of at most 10 sorts", "FORMAT")
    sorts = []
    for index, entry in enumerate(raw):
        name = entry.get("fieldName") if isinstance(entry, dict) else None
        order = entry.get("order", "ASC") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or order not in ("ASC", "DESC", None):
            raise invalid(f"query.sort[{index}]", "must be {fieldName, order: ASC|DESC}", "FORMAT")
        sorts.append((name, order == "DESC"))
    return sorts


def field_names(raw: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for key, value in raw.items():
        if key in ("$and", "$or"):
            for part in value:
                names |= field_names(part)
        elif key == "$not":
            names |= field_names(value)
        else:
            names.add(key)
    return names


# --- SQL, for filters and sorts on system fields ------------------------------------------------


def _sql_value(name: str, value: Any) -> Any:
    if name in ("_createdDate", "_updatedDate"):
        text = value.get("$date") if isinstance(value, dict) else value
        try:
            return datetime.fromisoformat(text)
        except (TypeError, ValueError) as error:
            raise invalid(
                f"query.filter.{name}", "must be compared with a date", "FORMAT"
            ) from error
    if not isinstance(value, str):
        raise invalid(f"query.filter.{name}", "must be compared with a string", "FORMAT")
    return value


def sql_filter(raw: dict[str, Any]) -> Q:
    q = Q()
    for key, value in raw.items():
        if key == "$and":
            for part in value:
                q &= sql_filter(part)
        elif key == "$or":
            either = Q(pk__in=[])
            for part in value:
                either |= sql_filter(part)
            q &= either
        elif key == "$not":
            q &= ~sql_filter(value)
        else:
            q &= _sql_condition(key, value)
    return q


def _sql_condition(name: str, condition: Any) -> Q:
    column = SYSTEM_COLUMNS[name]
    if not (isinstance(condition, dict) and any(k.startswith("$") for k in condition)) or (
        isinstance(condition, dict) and list(condition) == ["$date"]
    ):
        condition = {"$eq": condition}
    q = Q()
    for op, operand in condition.items():
        if op == "$exists":
            q &= Q() if operand else Q(pk__in=[])
        elif op in ("$in", "$hasSome"):
            q &= Q(**{f"{column}__in": [_sql_value(name, v) for v in operand]})
        elif op == "$startsWith":
            q &= Q(**{f"{column}__startswith": operand})
        elif op == "$ne":
            q &= ~Q(**{column: _sql_value(name, operand)})
        elif op == "$hasAll":
            values = {_sql_value(name, v) for v in operand}
            q &= Q(**{column: values.pop()}) if len(values) == 1 else Q(pk__in=[])
        else:
            lookup = {"$eq": "exact", "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}[op]
            q &= Q(**{f"{column}__{lookup}": _sql_value(name, operand)})
    return q


def sql_order(sorts: list[tuple[str, bool]]) -> list[str]:
    order = [("-" if desc else "") + SYSTEM_COLUMNS[name] for name, desc in sorts]
    # Without a sort: _createdDate, then _id; with one, _id breaks ties so pages never overlap.
    if not sorts:
        order = ["created_at"]
    if not any(name == "_id" for name, _ in sorts):
        order.append("item_id")
    return order


# --- Python, for anything naming an item's own fields -------------------------------------------


def _typed(value: Any) -> tuple[int, Any] | None:
    """A value Wix compares: (type rank, comparable), None for what never compares."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict) and isinstance(value.get("$date"), str):
        try:
            return (3, datetime.fromisoformat(value["$date"]))
        except ValueError:
            return None
    return None


def _compare(op: str, have: Any, want: Any) -> bool:
    if op in ("$eq", "$ne"):
        same = _typed(have) == _typed(want) if _typed(want) is not None else have == want
        if isinstance(have, list) and not same:
            same = any(_typed(v) == _typed(want) for v in have)
        return same if op == "$eq" else not same
    a, b = _typed(have), _typed(want)
    if a is None or b is None or a[0] != b[0]:
        return False
    return {"$gt": a > b, "$gte": a >= b, "$lt": a < b, "$lte": a <= b}[op]


def _condition(have: Any, present: bool, condition: Any) -> bool:
    if not (isinstance(condition, dict) and any(k.startswith("$") for k in condition)) or (
        isinstance(condition, dict) and list(condition) == ["$date"]
    ):
        condition = {"$eq": condition}
    for op, operand in condition.items():
        if op == "$exists":
            ok = present == bool(operand)
        elif op == "$in":
            ok = any(_compare("$eq", have, v) for v in operand)
        elif op in ("$hasSome", "$hasAll"):
            values = have if isinstance(have, list) else [have]
            found = [any(_typed(v) == _typed(w) for v in values) for w in operand]
            ok = any(found) if op == "$hasSome" else all(found)
        elif op == "$startsWith":
            ok = isinstance(have, str) and have.lower().startswith(operand.lower())
        else:
            ok = _compare(op, have, operand)
        if not ok:
            return False
    return True


def matches(raw: dict[str, Any], data: dict[str, Any]) -> bool:
    for key, value in raw.items():
        if key == "$and":
            ok = all(matches(part, data) for part in value)
        elif key == "$or":
            ok = any(matches(part, data) for part in value)
        elif key == "$not":
            ok = not matches(value, data)
        else:
            have, present = _path(data, key)
            ok = _condition(have, present, value)
        if not ok:
            return False
    return True


def _path(data: dict[str, Any], key: str) -> tuple[Any, bool]:
    # "address.city" reaches into an object, as Wix's field paths do.
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None, False
        value = value[part]
    return value, True


def sort_key(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    def key(data: dict[str, Any]) -> tuple[int, Any]:
        typed = _typed(_path(data, name)[0])
        # Missing and null first in ascending order, then by type, then by value.
        return (-1, 0) if typed is None else typed

    return key


def python_order(
    rows: list[tuple[str, dict[str, Any]]], sorts: list[tuple[str, bool]]
) -> list[str]:
    """Item ids of `rows` ([(id, data with system fields)]) in the query's order."""
    rows = sorted(rows, key=lambda row: (row[1]["_createdDate"]["$date"], row[0]))
    if sorts:
        rows.sort(key=lambda row: row[0])
        for name, desc in reversed(sorts):
            key = sort_key(name)
            rows.sort(key=lambda row, key=key: key(row[1]), reverse=desc)
    return [item_id for item_id, _ in rows]


def needs_python(filter_: dict[str, Any], sorts: list[tuple[str, bool]]) -> bool:
    names = field_names(filter_) | {name for name, _ in sorts}
    return not names <= set(SYSTEM_COLUMNS)


def sql_queryset(
    items: QuerySet[EmuItem], filter_: dict[str, Any], sorts: list[tuple[str, bool]]
) -> QuerySet[EmuItem]:
    return items.filter(sql_filter(filter_)).order_by(*sql_order(sorts))
