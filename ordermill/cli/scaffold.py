"""`ordermill new-plugin NAME [--gateway | --admin-panel | --tax]`: a plugin distribution to
start from.

It writes pyproject.toml (with the `ordermill` entry point), the plugin package, tests that use
only ordermill's kit (a gateway's also run the gateway conformance suite against a stand-in of
its service) and a README. `pip install -e '.[test]' && pytest` passes as generated, so an
author starts from green and changes one thing at a time.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import click

from ordermill.cli import scaffold_pricing as pricing
from ordermill.cli import scaffold_templates as templates
from ordermill.core.i18n import gettext as _

NAME = re.compile(r"[a-z][a-z0-9_]{1,40}")


def plugin_files(name: str, kind: str) -> dict[str, str]:
    """{relative path: text} of a new plugin distribution of `kind` (plain, gateway, panel,
    tax)."""
    words = {"name": name, "dist": "ordermill-" + name.replace("_", "-"),
             "label": name.replace("_", " ").title(),
             "header": f"{name.replace('_', '-')}-signature",
             "flag": {"gateway": " --gateway", "panel": " --admin-panel",
                      "tax": " --tax"}.get(kind, "")}
    module, tests = {"gateway": (templates.GATEWAY_MODULE, templates.GATEWAY_TESTS),
                     "panel": (templates.PANEL_MODULE, templates.PANEL_TESTS),
                     "tax": (pricing.TAX_MODULE, pricing.TAX_TESTS)}.get(
        kind, (templates.PLAIN_MODULE, templates.PLAIN_TESTS))
    files = {"pyproject.toml": templates.PYPROJECT, "README.md": templates.README,
             f"{name}/__init__.py": module, f"tests/test_{name}.py": tests}
    if kind == "panel":
        files[f"{name}/templates/panel.html"] = templates.PANEL_TEMPLATE
    return {path: Template(text).substitute(words) for path, text in files.items()}


@click.command("new-plugin")
@click.argument("name")
@click.option("--gateway", "kind", flag_value="gateway",
              help="A payment gateway: start payment, signed webhook, refund.")
@click.option("--admin-panel", "kind", flag_value="panel",
              help="A card on the admin's order page.")
@click.option("--tax", "kind", flag_value="tax",
              help="A pricing plugin: tax (or discounts, fees) on price_adjustments.")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to create the folder.")
def new_plugin(name: str, kind: str | None, directory: Path) -> None:
    """Write a new plugin distribution NAME (a Python name: demo_gateway) to start from."""
    if not NAME.fullmatch(name):
        raise click.BadParameter(_("use lower-case letters, digits and underscores, starting with "
                                   "a letter (e.g. demo_gateway)"), param_hint="NAME")
    target = directory / ("ordermill-" + name.replace("_", "-"))
    if target.exists():
        raise click.ClickException(_("%(target)s already exists; choose another name or folder.",
                                     target=target))
    for path, text in plugin_files(name, kind or "plain").items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_text(text, encoding="utf-8")
    click.echo(_("Created %(target)s. Next: cd %(target)s && pip install -e '.[test]' && pytest",
                 target=target))


__all__ = ["new_plugin", "plugin_files"]
