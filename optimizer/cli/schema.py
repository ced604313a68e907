"""``stockpile schema``: the scenario format as JSON Schema or Markdown."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer


def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference documentation instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editors' autocompletion and checks).

    With --markdown, print the reference page (docs/scenario-reference.md) generated from the
    same field descriptions.
    """
    from optimizer.scenario.schema import Scenario

    if markdown:
        from optimizer.scenario.reference import markdown as render

        sys.stdout.write(render())
        return
    sys.stdout.write(json.dumps(Scenario.model_json_schema(mode="validation"), indent=2) + "\n")
