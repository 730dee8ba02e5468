"""ordermill: a plugin-based order desk.

Plugin authors need only `hookimpl` from here and the objects of `ordermill.core.specs`.
"""

from ordermill.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
