"""Writing and querying blind-index tokens for one kind of record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.security.blind_index import normalise_words, tokens_for_text, tokens_for_words
from amparo.security.keyring import Keyring
from amparo.store import schema

__all__ = ["MAX_MATCHES", "find_ids", "replace_tokens"]

T = schema.search_tokens
MAX_MATCHES = 50_000  # beyond this a search is too vague to be useful


def replace_tokens(
    conn: Connection,
    keyring: Keyring,
    entity: str,
    entity_id: str,
    texts: Mapping[str, Iterable[str | None]],
    *,
    fresh: bool = False,
) -> None:
    """Index ``texts`` (field -> values) for one record, replacing what it had."""
    if not fresh:
        conn.execute(sa.delete(T).where(T.c.entity_id == entity_id))
    tokens: set[bytes] = set()
    for field, values in texts.items():
        key = keyring.blind_index_key(entity, field)
        for value in values:
            if value:
                tokens |= tokens_for_text(key, value)
    if tokens:
        conn.execute(sa.insert(T), [{"token": t, "entity_id": entity_id} for t in tokens])


def find_ids(
    conn: Connection, keyring: Keyring, entity: str, fields: Iterable[str], text: str
) -> set[str]:
    """Ids of records holding every word of ``text`` in at least one of ``fields``."""
    words = normalise_words(text)
    if not words:
        return set()
    field_keys = [keyring.blind_index_key(entity, f) for f in fields]
    result: set[str] | None = None
    for word in sorted(words, key=len, reverse=True):  # long words are rarer: narrow first
        tokens = [t for key in field_keys for t in tokens_for_words(key, [word])]
        ids = {
            r[0]
            for r in conn.execute(
                sa.select(T.c.entity_id).where(T.c.token.in_(tokens)).limit(MAX_MATCHES)
            )
        }
        result = ids if result is None else result & ids
        if not result:
            return set()
    return result or set()
