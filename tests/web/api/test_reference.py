"""docs/api.md is generated from the OpenAPI schema the app serves."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from amparo.web.api import openapi_document
from amparo.web.api.reference import MARKER, rewrite

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_docs_api_md_is_current() -> None:
    page = DOCS / "api.md"
    assert MARKER in page.read_text("utf-8")
    assert rewrite(page) == page.read_text("utf-8"), (
        "docs/api.md is stale: run 'python -m amparo.web.api.reference docs/api.md'"
    )


def test_served_schema_is_the_documented_one(client: TestClient) -> None:
    served = client.get("/api/v1/openapi.json").json()
    assert served == openapi_document()
    assert served["openapi"].startswith("3.")


def test_every_operation_documents_problem_responses() -> None:
    for path, operations in openapi_document()["paths"].items():
        for method, op in operations.items():
            for status in ("401", "403", "404", "422"):
                content = op["responses"][status]["content"]
                assert "application/problem+json" in content, (method, path, status)
