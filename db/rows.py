"""One converter between record dataclasses and table rows, driven by the dataclass fields.

A field is stored in the column of its name: datetimes as ISO text in UTC, booleans as 0/1,
lists, tuples and dicts as JSON, everything else as it is. Reading a row back uses the
field's type: a missing or NULL column (or empty text where JSON belongs) gives the field's
default, and a value that cannot be read is a StoreError naming the field. Adding a column
is one edit in the schema and one in the record.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from db.tables import StoreError

Record = TypeVar("Record")
Decoder = Callable[[Any], Any]


def to_text(moment: datetime | None) -> str | None:
    """Format an aware datetime as the ISO text stored in the database (UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: store aware datetimes only")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_text(text: str | None) -> datetime | None:
    """Parse stored ISO text back into an aware UTC datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text)


def to_json(value: Any) -> str:
    """JSON text of a list, tuple or dict field (datetimes inside as stored ISO text)."""
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def column_value(value: Any) -> Any:
    """The value a field is stored as."""
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple | dict):
        return to_json(value)
    return value


def to_row(record: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The row of a record: one column per field (except ``exclude``), in field order."""
    skipped = set(exclude)
    return {
        field.name: column_value(getattr(record, field.name))
        for field in dataclasses.fields(record)
        if field.name not in skipped
    }


def from_row(cls: type[Record], row: Mapping[str, Any]) -> Record:
    """Rebuild a record from a row; fields without a column (or NULL) take their default."""
    return _build(cls, _row_plan(cls, tuple(row.keys()), by_position=False), row)


def from_rows(cls: type[Record], cursor: sqlite3.Cursor) -> list[Record]:
    """``from_row`` of each row of a query: its columns (the cursor's) are matched with the
    record's fields once, not for every row, and read by position."""
    if cursor.description is None:
        return []
    names = tuple(column[0] for column in cursor.description)
    plan = _row_plan(cls, names, by_position=True)
    return [_build(cls, plan, row) for row in cursor]


def _build(cls: type[Record], plan: _RowPlan, row: Any) -> Record:
    values = {}
    for name, at, decode, default in plan:
        value = None if at is None else row[at]
        if value is None:
            values[name] = default()
            continue
        try:
            values[name] = decode(value)
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"cannot read {cls.__name__}.{name} from {value!r}: {exc}") from exc
    return cls(**values)


# Per field: its name, where its column is in the rows (None: no column), its decoder and
# its default.
_RowPlan = tuple[tuple[str, int | str | None, Decoder, Callable[[], Any]], ...]


@cache
def _row_plan(cls: type, names: tuple[str, ...], by_position: bool) -> _RowPlan:
    """The plan of ``cls`` for rows with these column names: a field is read when a column
    has its name, by name, or by the position sqlite3.Row's look-up by that name gives (the
    first column of that name, in any case)."""
    position: dict[str, int] = {}
    for number, name in enumerate(names):
        position.setdefault(name.lower(), number)
    return tuple(
        (name, (position[name.lower()] if by_position else name) if name in names else None, d, f)
        for name, d, f in _plan(cls)
    )


def columns(cls: type, exclude: Iterable[str] = ()) -> str:
    """The column list of a record's fields for a SELECT, without ``exclude``."""
    skipped = set(exclude)
    return ", ".join(f.name for f in dataclasses.fields(cls) if f.name not in skipped)


@cache
def _plan(cls: type) -> tuple[tuple[str, Decoder, Callable[[], Any]], ...]:
    """Per field: its name, how to read its column, and its default when the column is NULL."""
    hints = typing.get_type_hints(cls)
    plan = []
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        plan.append((field.name, _decoder(hint), _default(field, hint)))
    return tuple(plan)


def _default(field: dataclasses.Field, hint: Any) -> Callable[[], Any]:
    if field.default is not dataclasses.MISSING:
        return lambda: field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory
    optional, base = _unwrap_optional(hint)
    if optional:
        return lambda: None
    origin = typing.get_origin(base) or base
    return origin if origin in (str, int, float, bool, list, tuple, dict) else lambda: None


def _unwrap_optional(hint: Any) -> tuple[bool, Any]:
    """(True, X) for ``X | None``; (False, hint) otherwise."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(arguments) == 1:
            return True, arguments[0]
    return False, hint


def _decoder(hint: Any) -> Decoder:
    """How to turn a stored column back into a value of this type."""
    _, base = _unwrap_optional(hint)
    origin = typing.get_origin(base)
    if origin in (list, tuple, dict):
        element = _element(base)
        empty = origin()
        # Most such columns hold an empty list or mapping: read without the JSON parser.
        empty_texts = ("", json.dumps(empty))
        return lambda text: element(empty) if text in empty_texts else element(json.loads(text))
    return _scalar(base)


def _scalar(hint: Any) -> Decoder:
    if hint is datetime:
        return from_text
    if hint is bool:
        return bool
    if isinstance(hint, type) and issubclass(hint, str) and hint is not str:
        return hint  # a StrEnum: its member
    return lambda value: value


def _element(hint: Any) -> Decoder:
    """How to rebuild a value of this type from its JSON form."""
    _, base = _unwrap_optional(hint)
    origin = typing.get_origin(base)
    arguments = typing.get_args(base)
    if origin is list:
        item = _element(arguments[0]) if arguments else _identity
        return lambda values: [item(value) for value in values]
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            item = _element(arguments[0])
            return lambda values: tuple(item(value) for value in values)
        items = [_element(argument) for argument in arguments]
        return lambda values: tuple(read(v) for read, v in zip(items, values, strict=True))
    if origin is dict:
        item = _element(arguments[1]) if arguments else _identity
        return lambda values: {key: item(value) for key, value in values.items()}
    scalar = _scalar(base)
    return lambda value: None if value is None else scalar(value)


def _identity(value: Any) -> Any:
    return value
