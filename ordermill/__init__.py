"""ordermill: a plugin-based order desk.

Plugin authors import from `ordermill.api`, the public plugin API (`hookimpl`, the spec
objects hooks return, the models, Money, the errors, the action runner), and take hook
argument types from `ordermill.hookspecs`; the rest of ordermill is private. `hookimpl` stays
importable from here for plugins written before `ordermill.api` existed.
"""

from ordermill.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
