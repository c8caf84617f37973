"""Docs generated from code stay in step with it (Datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

from amparo.cli.main import cli
from amparo.cli.reference import iter_commands, render_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == render_markdown(), (
        "docs/cli.md is stale: run 'make docs'"
    )


def test_every_command_explains_itself() -> None:
    for path, command in iter_commands(cli):
        assert (command.help or "").strip(), f"amparo {' '.join(path)} has no help text"


def test_readme_names_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme
