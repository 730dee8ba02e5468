"""The statements every action runs, sent on the driver's cursor (issue 20).

`Connection.execute` costs about 80-100 us of Python per statement on this VM beyond the
database's own work (a new execution context, parameter and result handling, the
`CursorResult`), while the driver's `cursor.execute` and `fetchall` cost 30-40 us. On the
path every action takes (the locked order's read, its event's INSERT) that difference was a
fifth of an accept.

`HotStatement` compiles a fixed Core statement once per dialect and keeps what SQLAlchemy
would work out again at each execution: the SQL text, the parameters' order and bind
processors, and each result column's processor. Each execution then does what
`Connection.execute` does, without the objects around it:

* the engine's and connection's `before_cursor_execute` / `after_cursor_execute` listeners
  hear it (statement counts, the test harness's guards, the benchmark's figures), with no
  execution context;
* a driver error is handled by the connection as any statement's (wrapped in SQLAlchemy's
  exception classes, a lost connection invalidated), so retries classify it the same way;
* parameters go through the columns' bind processors and rows through their result
  processors (dates, JSON, the UTC type), as `Connection.execute` would have them.

Only for statements without expanding (`IN`) parameters or parameter-dependent rendering;
the transaction must be begun (`Session.connection()` begins it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


class _Compiled:
    """One statement compiled for one dialect, with its processors."""

    def __init__(self, statement: ClauseElement, dialect: Dialect,
                 keys: Sequence[str] | None) -> None:
        compiled: Any = statement.compile(dialect=dialect,
                                          column_keys=list(keys) if keys else None)
        if compiled.has_out_parameters or any(
                bind.expanding or bind.literal_execute for bind in compiled.binds.values()):
            raise TypeError("HotStatement takes statements whose SQL text is fixed")
        if compiled.insert_prefetch or compiled.update_prefetch:  # filled by an execution
            missing = [column.key for column in
                       (*compiled.insert_prefetch, *compiled.update_prefetch)]
            raise TypeError(f"HotStatement needs a value for every column with a default: "
                            f"{', '.join(missing)}")
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or compiled.bind_names.values())
        binds: dict[str, Any] = {compiled.bind_names[bind]: bind
                                 for bind in compiled.binds.values()}
        processors = compiled._bind_processors
        self.bind_processors: tuple[tuple[str, Processor], ...] = tuple(
            (name, processors.get(name)) for name in self.names)
        self.defaults: dict[str, Any] = {
            name: binds[name].effective_value for name in self.names
            if binds[name].effective_value is not None or not binds[name].required}
        self.dialect = dialect
        self.result_types = tuple(column[3] for column in compiled._result_columns)
        # made at the first execution: some need the driver's type code of the column
        self.result_processors: tuple[Processor, ...] = ()
        self.any_result_processor = True

    def learn_result(self, description: Sequence[Any] | None) -> None:
        """The result columns' processors, from the driver's description of them."""
        codes = [column[1] for column in description or ()]
        codes += [None] * (len(self.result_types) - len(codes))
        self.result_processors = tuple(
            type_._cached_result_processor(self.dialect, code)
            for type_, code in zip(self.result_types, codes, strict=False))
        self.any_result_processor = any(self.result_processors)

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = []
        for name, processor in self.bind_processors:
            value = params[name] if name in params else self.defaults[name]
            values.append(processor(value) if processor is not None else value)
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def row(self, raw: Sequence[Any], start: int = 0, stop: int | None = None
            ) -> tuple[Any, ...]:
        processors = self.result_processors[start:stop]
        return tuple(processor(value) if processor is not None else value
                     for processor, value in zip(processors, raw[start:stop], strict=True))


class HotStatement:
    """A fixed Core statement run on the driver's cursor (see the module). `keys` names the
    parameters an INSERT is given (its columns), as `Connection.execute` would see them."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = tuple(keys) if keys else None
        self._compiled: dict[Any, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled(self.statement, dialect, self.keys)
        return compiled

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement returns, each column as `Connection.execute` gives it."""
        compiled = self._for(connection.dialect)
        raw, _count = _run(connection, compiled, compiled.parameters(params), fetch=True)
        if not compiled.any_result_processor:
            return [tuple(row) for row in raw]
        return [compiled.row(row) for row in raw]

    def raw_rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The driver's rows, unprocessed: `columns` makes a part of one as `rows` would (a
        joined read whose first columns repeat on every row processes them once)."""
        compiled = self._for(connection.dialect)
        return _run(connection, compiled, compiled.parameters(params), fetch=True)[0]

    def columns(self, dialect: Dialect, raw: Sequence[Any], start: int = 0,
                stop: int | None = None) -> tuple[Any, ...]:
        """Columns `start` to `stop` of a raw row, each as `Connection.execute` gives it."""
        return self._for(dialect).row(raw, start, stop)

    def rowcount(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows (an UPDATE); the rows it matched."""
        compiled = self._for(connection.dialect)
        return _run(connection, compiled, compiled.parameters(params), fetch=False)[1]

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement that returns no rows once per parameter set, with the driver's
        executemany (an INSERT of several rows whose ids nobody reads)."""
        compiled = self._for(connection.dialect)
        _run(connection, compiled, [compiled.parameters(row) for row in rows], fetch=False,
             many=True)


def _run(connection: Connection, compiled: _Compiled, parameters: Any, *, fetch: bool,
         many: bool = False) -> tuple[list[Any], int]:
    dispatch = connection.dispatch
    cursor = connection.connection.cursor()
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, compiled.sql, parameters,
                                           None, many)
        try:
            if many:
                cursor.executemany(compiled.sql, parameters)
            else:
                cursor.execute(compiled.sql, parameters)
            raw = cursor.fetchall() if fetch else []
            if fetch and not compiled.result_processors and compiled.result_types:
                compiled.learn_result(cursor.description)
        except BaseException as error:
            connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)
        count = cursor.rowcount
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, compiled.sql, parameters,
                                          None, many)
        return raw, count
    finally:
        cursor.close()


__all__ = ["HotStatement"]
