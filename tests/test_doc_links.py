"""Links in the docs lead somewhere: every relative link names a file of the repository.

The threat model links each mitigation to the module that implements it; a module renamed
or moved must take its link along (Datasette's test_docs idea, applied to links).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# [text](target) outside code spans; the target up to a closing parenthesis or a #fragment
LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")
CHECKED = ("threat-model.md", "deploy.md")


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("name", CHECKED)
def test_every_relative_link_exists(name: str) -> None:
    page = DOCS / name
    missing = [t for t in relative_links(page) if not (page.parent / t).exists()]
    assert not missing, f"docs/{name} links to missing files: {missing}"


def test_threat_model_links_mitigations_to_modules() -> None:
    modules = [t for t in relative_links(DOCS / "threat-model.md") if t.startswith("../amparo/")]
    assert len(set(modules)) >= 20, "each mitigation should name the module implementing it"
    for target in modules:
        assert target.endswith(".py") and (DOCS / target).is_file(), target


def test_every_linked_module_in_any_doc_exists() -> None:
    pages = [*DOCS.glob("*.md"), ROOT / "README.md"]
    missing = [
        f"{page.relative_to(ROOT)} -> {target}"
        for page in pages
        for target in relative_links(page)
        if "amparo/" in target and not (page.parent / target).exists()
    ]
    assert not missing, f"links to modules that do not exist: {missing}"
