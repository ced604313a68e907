"""``stockpile schema``: the scenario format (or the batch file's) as JSON Schema, or Markdown.

The printed documents are those kept in ``schemas/`` for editors; regenerate them with::

    stockpile schema > schemas/scenario.schema.json
    stockpile schema --batch > schemas/batch.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer


def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference documentation instead.")
    ] = False,
    batch: Annotated[
        bool, typer.Option("--batch", help="Print the JSON Schema of batch files instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editors' completion, hover help and checks).

    A file with `extends:` is checked as a partial scenario (nothing required), a file without
    it as a whole one. With --batch, print the schema of batch files (stockpile batch). With
    --markdown, print the reference page (docs/scenario-reference.md) generated from the same
    field descriptions. The repository keeps both schemas in schemas/.
    """
    if markdown:
        from optimizer.scenario.reference import markdown as render

        sys.stdout.write(render())
        return
    if batch:
        from optimizer.studies.batch_schema import batch_json_schema

        document = batch_json_schema()
    else:
        from optimizer.scenario.json_schema import scenario_json_schema

        document = scenario_json_schema()
    sys.stdout.write(schema_text(document))


def schema_text(document: dict) -> str:
    """A schema as the text kept in ``schemas/``: indented JSON, non-ASCII kept, one final
    newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
