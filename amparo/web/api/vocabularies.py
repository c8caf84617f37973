"""The coded vocabularies with their labels, in the language asked for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from amparo.errors import NotFound
from amparo.web.api import protected_router
from amparo.web.api.models import VocabularyOut, VocabularySummaryOut
from amparo.web.auth import CurrentUser

__all__ = ["router"]

Lang = Annotated[
    str | None,
    Query(max_length=12, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$",
          description="Label language: en, es, fr, pt, ar (default: the installation's)"),
]  # fmt: skip


def router() -> APIRouter:
    api = protected_router("vocabularies")

    @api.get("/vocabularies", response_model=list[VocabularySummaryOut],
             summary="The coded vocabularies")  # fmt: skip
    def list_vocabularies(ctx: CurrentUser) -> Response:
        vocab = ctx.registry.vocab
        return JSONResponse([{"name": v.name, "terms": len(v)} for v in vocab])

    @api.get("/vocabularies/{name}", response_model=VocabularyOut,
             summary="One vocabulary's codes and labels")  # fmt: skip
    def get_vocabulary(
        ctx: CurrentUser,
        name: Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9_]+$")],
        lang: Lang = None,
    ) -> Response:
        vocab = ctx.registry.vocab
        if name not in vocab:
            raise NotFound(f"no vocabulary '{name}'")
        language = lang or ctx.registry.settings.language
        return JSONResponse({
            "name": name,
            "language": language,
            "terms": [
                {"code": t.code, "label": t.label(language), "labels": dict(t.labels),
                 "extra": dict(t.attributes)}
                for t in vocab[name]
            ],
        })  # fmt: skip

    return api
