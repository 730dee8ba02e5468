"""Built-in plugins. Each imports only `ordermill.api`, `ordermill.hookspecs` and its own
package (an import-linter contract holds them to it), and is registered through the
`ordermill` entry-point group exactly like a third-party plugin."""
