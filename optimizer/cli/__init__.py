"""The ``stockpile`` command: one module per subcommand, what they share in ``common.py``.

``run``, ``sweep``, ``validate``, ``schema``, ``batch``, ``compare`` and ``stress`` are
registered on :data:`app` here, in the order ``stockpile --help`` lists them; a command module
imports ``common`` and the stages below, never another command nor this package.

The exit codes, stable for scripts, are listed once, in ``common.py`` (and in the README).
"""

from __future__ import annotations

from typing import Annotated

import typer

from optimizer import __version__
from optimizer.cli import batch, compare, run, schema, stress, sweep, validate
from optimizer.cli.common import out

app = typer.Typer(
    name="stockpile",
    help=(
        "Stockpile and mitigation optimisation for strategic dependencies.\n\n"
        "Reads a scenario file (YAML: goods, suppliers, disruptions, budgets), decides how much "
        "to spend on strategic stockpiles, reserved supplier capacity, domestic capacity and "
        "demand measures, and writes the recommended portfolio.\n\n"
        "Start with:  stockpile run scenarios/critical_raw_materials.yaml --out results/crm"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"stockpile {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Stockpile and mitigation optimisation."""


app.command()(run.run)
app.command()(sweep.sweep)
app.command()(validate.validate)
app.command()(schema.schema)


def register_batch(app: typer.Typer) -> None:
    """Add the ``batch`` and ``compare`` commands to ``app`` (the ``stockpile`` application, or
    a test's own)."""
    app.command("batch")(batch.batch)
    app.command("compare")(compare.compare)


register_batch(app)
app.command("stress")(stress.stress)


def main() -> None:
    app()
