"""Core rows made into persistent ORM objects, for hot paths (issue 20).

The ORM's query machinery (its per-query context, row processors and identity lookups) cost
more than the statements on the path every action takes: loading the locked order and its
rows (core/orders/loading.py; accepts 16 % faster). There the rows are read with Core
statements and `persistent` makes each one the object a query would have made: its columns
loaded and committed, its relationships unloaded, attached to the session (or the object
the session already holds for that row). Not worth it for a placement's products and
customer: no measurable gain (tried in session 14).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.orm import Session, make_transient_to_detached


def persistent(session: Session, cls: Any, values: Any) -> Any:
    """A Core row of `cls`'s table (every column, in the table's order) as a persistent
    object of `session`, its columns loaded as a query loads them and its relationships
    unloaded; the object the session already holds for that row, if it holds one. For hot
    paths where the ORM's per-query loading machinery costs more than the statement."""
    already = held(session, cls, values)
    if already is not None:
        return already
    obj = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(zip(_keys(cls.__table__), values, strict=True))
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def held(session: Session, cls: Any, values: Any) -> Any:
    """The object `session` holds for this row (its first column is its id), or None."""
    return session.identity_map.get(cls.__mapper__.identity_key_from_primary_key([values[0]]))


@cache
def _keys(table: Any) -> tuple[str, ...]:
    """The attribute of each column, in the table's order (the rows' order); the id first."""
    keys = tuple(column.key for column in table.c)
    if keys[0] != "id" or [column.key for column in table.primary_key] != ["id"]:
        raise TypeError(f"{table.name}: persistent() takes rows whose first column is the id")
    return keys
