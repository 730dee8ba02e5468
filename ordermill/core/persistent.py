"""Core rows made into persistent ORM objects, for hot paths (issue 20).

The ORM's query machinery (its per-query context, row processors and identity lookups) cost
more than the statements on the path every action takes: loading the locked order and its
rows (core/orders/loading.py; accepts 16 % faster). There the rows are read with Core
statements and `persistent` makes each one the object a query would have made: its columns
loaded and committed, its relationships unloaded, attached to the session (or the object
the session already holds for that row). `attach` puts it straight into the identity map,
as a query does, unless a listener waits to hear of attached objects; an action's new event
and a placement's new customer, order and invoice are attached the same way
(core/orders/saving.py). Accepts 16 % faster than through `Session.add`, whose cascade
walk found nothing to cascade (session 15). A placement's products and customer are read
this way too (core/pricing.py, core/orders/placing.py): placements +4.4 % in `bench.ab`
(session 18; session 14 had measured no gain, on a noisier day).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state


def persistent(session: Session, cls: Any, values: Any) -> Any:
    """A Core row of `cls`'s table (every column, in the table's order) as a persistent
    object of `session`, its columns loaded as a query loads them and its relationships
    unloaded; the object the session already holds for that row, if it holds one. For hot
    paths where the ORM's per-query loading machinery costs more than the statement."""
    key = _key(cls, values[0])
    already = session.identity_map.get(key)
    if already is not None:
        return already
    obj = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(zip(_keys(cls.__table__), values, strict=True))
    if _attach_is_watched(session):
        _add(session, obj)
    else:  # nothing to cascade: a new object with only its columns set
        _put(session, instance_state(obj), key)
    return obj


def attach(session: Session, obj: Any) -> None:
    """Make transient `obj`, whose row is in the database with every column as `obj` has it,
    the persistent object of its row in `session`, its attributes committed, as a query
    leaves a row it loads (`Session.add` when a relationship holds something to cascade)."""
    state = instance_state(obj)
    if _attach_is_watched(session) or not _relations_attached(session, state):
        _add(session, obj)
        return
    if state.modified:  # built by its constructor: what it set is what the row holds now
        state._commit_all(state.dict)
    _put(session, state, _key(state.class_, state.dict["id"]))


def _add(session: Session, obj: Any) -> None:
    """The public way: listeners hear the object attached, related objects are cascaded."""
    make_transient_to_detached(obj)
    session.add(obj)


def _put(session: Session, state: Any, key: Any) -> None:
    """What a query does with a row it loads (sqlalchemy.orm.loading._instance): key the
    state, attach it, put it in the identity map. Session.add would walk the cascades of
    every relationship (a tenth of an accept) to find nothing to cascade."""
    state.key, state.identity_token = key, None
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, key)


def _relations_attached(session: Session, state: Any) -> bool:
    """No relationship of the object holds anything `Session.add` would cascade into the
    session: each is unset, empty, or an object of this session."""
    if state.__dict__.get("_pending_mutations"):
        return False
    values = state.dict
    for key in _relationships(state.mapper):
        value = values.get(key)
        if value is None or (isinstance(value, (list, set, dict)) and not value):
            continue
        if isinstance(value, (list, set, dict)) or (
                instance_state(value).session_id != session.hash_key):
            return False
    return True


@cache
def _relationships(mapper: Any) -> tuple[str, ...]:
    return tuple(relationship.key for relationship in mapper.relationships)


def _attach_is_watched(session: Session) -> bool:
    dispatch = session.dispatch
    return bool(dispatch.after_attach or dispatch.detached_to_persistent)


def held(session: Session, cls: Any, values: Any) -> Any:
    """The object `session` holds for this row (its first value is its primary key), or None."""
    return session.identity_map.get(_key(cls, values[0]))


def _key(cls: Any, row_id: Any) -> Any:
    """The identity map's key of the `cls` row with this id."""
    return cls.__mapper__.identity_key_from_primary_key([row_id])


@cache
def _keys(table: Any) -> tuple[str, ...]:
    """The attribute of each column, in the table's order (the rows' order); the id first."""
    keys = tuple(column.key for column in table.c)
    if keys[0] != "id" or [column.key for column in table.primary_key] != ["id"]:
        raise TypeError(f"{table.name}: persistent() takes rows whose first column is the id")
    return keys
