"""Built-in plugins. Each uses only `ordermill.hookspecs` and the core's public API, and is
registered through the `ordermill` entry-point group exactly like a third-party plugin."""
