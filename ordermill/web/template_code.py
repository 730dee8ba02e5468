"""Compiled Jinja templates shared by every app of the process.

Each Flask app has its own Jinja environment, which parses and compiles a template the first
time the app renders it. A server builds one app and pays that once; the test suite builds an
app per test, and compiling the admin's templates again was a large part of every admin
test. This bytecode cache keeps each template's code object in memory, keyed by its name, its
source's checksum (an edited template compiles again) and the environment's options that
change the generated code, so any app built the same way reuses it.
"""

from __future__ import annotations

import threading
from typing import Any

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


def _environment_signature(environment: Environment) -> str:
    return repr((sorted(environment.extensions), environment.autoescape,
                 environment.block_start_string, environment.variable_start_string,
                 environment.comment_start_string, environment.line_statement_prefix,
                 environment.line_comment_prefix, environment.trim_blocks,
                 environment.lstrip_blocks, environment.newline_sequence,
                 environment.keep_trailing_newline, environment.optimized,
                 getattr(environment, "newstyle_gettext", None)))


class SharedTemplateCode(BytecodeCache):
    """An in-memory bytecode cache for all the apps of one process."""

    def __init__(self) -> None:
        self._codes: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def get_bucket(self, environment: Environment, name: str, filename: str | None,
                   source: str) -> Bucket:
        bucket = Bucket(environment, f"{self.get_cache_key(name, filename)}:"
                        f"{_environment_signature(environment)}",
                        self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._codes.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._codes[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        with self._lock:
            self._codes.clear()


TEMPLATE_CODE = SharedTemplateCode()
