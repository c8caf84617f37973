"""Schemathesis against the app in-process: every operation of the OpenAPI schema, with a
coordinator's bearer token, must never answer 5xx and must answer what the schema documents
(status, media type, body, headers). Then the OpenAPI links (create -> read/amend/delete/...)
are followed statefully.

The schema is the one the app serves (tests/web/api/test_reference.py checks they are equal):
it needs no vault, so it is loaded once at import and every operation becomes its own pytest
item. (``schemathesis.pytest.from_fixture`` would load it from the app per test, but it sets
``Function._nodeid``, which pytest 9.2 no longer has.) Requests go in-process to the test's own
app through a Schemathesis ASGI session that carries the token.

Bounded for CI: a fixed number of examples per operation and a fixed seed (``derandomize``),
so a run is reproducible; failures print a curl command to replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from amparo.domain.vocabularies import load_vocabularies
from amparo.registry import Registry
from amparo.web.api import PREFIX, openapi_document
from amparo.web.api.listing import encode_cursor
from tests import factories
from tests.web.api.conftest import Api
from tests.web.conftest import BASE_URL, add_user

# Besides 5xx and conformance to the schema: data the schema forbids is refused
# (negative_data_rejection, see CONFIG) and so is a request without a required header. Not
# among them: positive_data_acceptance, since a body the JSON schema accepts may still be
# refused with 422 by the library (unknown vocabulary code, date in the future, act naming a
# perpetrator that does not exist): the schema checks shape, the library meaning (see
# amparo.web.api.models). ignored_auth and unsupported_method send requests of their own,
# outside this in-process session; tests/web/test_auth.py sends every route without and with
# bad credentials.


def invalid_data_is_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's negative_data_rejection, except for a query parameter given several
    times: no parameter of the API is a list, and FastAPI reads a repeated one as its last
    value (which the other checks then hold to the schema)."""
    if any(isinstance(value, list) for value in (case.query or {}).values()):
        return None
    result: bool | None = negative_data_rejection(ctx, response, case)
    return result


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    invalid_data_is_refused,
    missing_required_header,
]


def deleted_records_are_gone(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's use_after_free, except for a record's history and diffs: a delete is
    recoverable, so they stay readable for ``POST .../restore``."""
    if case.operation.path.endswith(("/history", "/diff")):
        return None
    result: bool | None = use_after_free(ctx, response, case)
    return result


# After a create: a deleted record is gone (404) and a created one is there.
STATEFUL_CHECKS = [*CHECKS, deleted_records_are_gone, ensure_resource_availability]

CONFIG = schemathesis.Config.from_dict({
    # Only the schema's own links: links that Schemathesis infers from listings depend on what
    # the vault holds, which changes from one scenario to the next and makes Hypothesis's
    # generation inconsistent (FlakyStrategyDefinition).
    "phases": {"stateful": {"inference": {"algorithms": []}}},
    # Refusing invalid data: Schemathesis's statuses plus 413, for a body over the size limit.
    "checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429",
        "5xx",
    ]}},
})  # fmt: skip
SCHEMA = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)

FAST = {
    "deadline": None,
    "derandomize": True,
    "database": None,  # derandomized: nothing to replay from .hypothesis/
    # The app and its vault are built once per test, not per example (as a client sees it),
    # and some operations only ever answer 404 or 422 to random input.
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}


# -- realistic bodies ------------------------------------------------------------------------
# Random JSON almost never carries valid vocabulary codes, so creates would all end in 422 and
# the links after them would never be followed. Half of the bodies of the create operations
# are therefore drawn from valid codes and dates instead (the other half stay schemathesis's).
VOCAB = load_vocabularies()


def _code(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(VOCAB[name].codes)


_TEXT = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and "\x00" not in s)
_DAY = st.dates(date(1990, 1, 1), date(2026, 10, 31)).map(date.isoformat)
_ACT = st.fixed_dictionaries(
    {"act_type": _code("act_types")},
    optional={"victim_description": _TEXT, "modality": _code("modalities"),
              "gender_specific": _code("yes_no_unknown")},
)  # fmt: skip
INCIDENTS = st.fixed_dictionaries(
    {"title": _TEXT, "date_start": _DAY, "country": _code("countries"),
     "acts": st.lists(_ACT, min_size=1, max_size=3)},
    optional={
        "narrative": _TEXT, "region": _TEXT, "place": _TEXT,
        "violation_status": _code("violation_status"),
        "perpetrators": st.lists(
            st.fixed_dictionaries({"perpetrator_type": _code("perpetrator_types")}), max_size=2
        ),
        "sources": st.lists(
            st.fixed_dictionaries({"source_type": _code("source_types")},
                                  optional={"reliability": _code("reliability")}), max_size=2,
        ),
    },
)  # fmt: skip
DEFENDERS = st.fixed_dictionaries(
    {"display_name": _TEXT},
    optional={"kind": _code("defender_kinds"), "country": _code("countries"),
              "gender_identity": _code("gender_identities"), "region": _TEXT,
              "sectors": st.lists(_code("sectors"), max_size=3, unique=True),
              "aliases": st.lists(_TEXT, max_size=2)},
)  # fmt: skip
VALID_BODIES = {
    ("POST", f"{PREFIX}/incidents"): INCIDENTS,
    ("PATCH", f"{PREFIX}/incidents/{{incident_id}}"): INCIDENTS,
    ("POST", f"{PREFIX}/defenders"): DEFENDERS,
    ("PATCH", f"{PREFIX}/defenders/{{defender_id}}"): DEFENDERS,
}


# Cursors are opaque base64 JSON that random text never decodes to; half of the listings'
# cursors are forged instead: the right sort, then any value and id (a NUL, a lone surrogate,
# null for a sort column that is never null, dates far out).
DEFAULT_SORTS = {f"{PREFIX}/incidents": "-date", f"{PREFIX}/defenders": "created",
                 f"{PREFIX}/cases": "created"}  # fmt: skip
_ODD = st.sampled_from(["\x00", "a\x00", "\ud800", "", "0001-01-01", "9999-12-31T23:59:59+14:00"])
_VALUE = st.one_of(
    st.none(),
    _ODD,
    st.text(max_size=30),
    _DAY,
    st.datetimes(timezones=st.sampled_from([UTC, None])).map(datetime.isoformat),
)
_ID = st.one_of(st.from_regex(r"[0-9a-f]{1,32}", fullmatch=True), _ODD, st.text(max_size=40))


def _forge_cursor(path: str, query: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    sort = query.get("sort", DEFAULT_SORTS[path])
    return st.tuples(_VALUE, _ID).map(lambda vi: {**query, "cursor": encode_cursor(sort, *vi)})


@SCHEMA.hook
def flatmap_query(
    context: schemathesis.HookContext, query: dict[str, Any] | None
) -> st.SearchStrategy[Any]:
    operation = context.operation
    listing = operation is not None and operation.method.upper() == "GET"
    if not listing or operation.path not in DEFAULT_SORTS or not isinstance(query, dict):
        return st.just(query)
    return st.one_of(st.just(query), _forge_cursor(operation.path, query))


@SCHEMA.hook
def before_generate_body(
    context: schemathesis.HookContext, strategy: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    operation = context.operation
    if operation is None:
        return strategy
    valid = VALID_BODIES.get((operation.method.upper(), operation.path))
    return strategy if valid is None else st.one_of(strategy, valid)


# -- the registry, the app and the client ----------------------------------------------------
@pytest.fixture
def token(registry: Registry) -> str:
    """A coordinator's export token, with write grants on a few cases that hold some records."""
    user = add_user(registry, "coord", "coordinator")
    berta = registry.defenders.add(factories.defender())
    registry.defenders.add(factories.defender(display_name="Ana Lopez", country="CO"))
    registry.incidents.add(
        factories.incident(acts=[{"act_type": "A09", "victim_defender_id": berta.id}]),
        case_id=berta.case_id,
    )
    registry.incidents.add(factories.incident(title="Office raided", country="GT"))
    for summary, *_ in registry.cases.list(limit=50):
        registry.grants.grant(summary.id, "user", user.id, "write")
    _, secret = registry.accounts.create_token(user.id, "schemathesis", "export", 30)
    return secret


@pytest.fixture
def session(app: FastAPI, token: str) -> Iterator[ASGIClient]:
    """Sends Schemathesis's requests to ``app`` in-process, each with the bearer token."""
    client = ASGIClient(app, base_url=BASE_URL)
    client.headers["Authorization"] = f"Bearer {token}"
    yield client
    client.close()


# -- the tests -------------------------------------------------------------------------------
@SCHEMA.parametrize()
@settings(max_examples=30, **FAST)
def test_every_operation_answers_as_documented(case: Any, session: ASGIClient) -> None:
    case.call_and_validate(session=session, base_url=BASE_URL, checks=CHECKS)


def test_links_lead_to_the_created_records(session: ASGIClient) -> None:
    class Machine(SCHEMA.as_state_machine()):
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"session": session, "base_url": BASE_URL}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    Machine.run(settings=settings(max_examples=15, stateful_step_count=6, **FAST))


# -- what it found, pinned ------------------------------------------------------------------
INCIDENTS_PATH, DEFENDERS_PATH = f"{PREFIX}/incidents", f"{PREFIX}/defenders"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        # A forged cursor holding null for a sort column that is never null: PostgreSQL cannot
        # compare a date or a time with '' (was 503).
        (INCIDENTS_PATH, {"sort": "-date", "cursor": encode_cursor("-date", None, "ff")}),
        (DEFENDERS_PATH, {"sort": "updated", "cursor": encode_cursor("updated", None, "ff")}),
        # A NUL (PostgreSQL refuses it: 503) or a lone surrogate (no UTF-8: 500) in a cursor.
        (INCIDENTS_PATH, {"sort": "country", "cursor": encode_cursor("country", "A\x00", "ff")}),
        (DEFENDERS_PATH, {"sort": "country", "cursor": encode_cursor("country", "\ud800", "ff")}),
        (f"{PREFIX}/cases", {"cursor": encode_cursor("created", None, "\ud800")}),
        # A number is not a date: pydantic read it as Unix time (0 -> 1970-01-01).
        (INCIDENTS_PATH, {"date_from": "0"}),
        (f"{INCIDENTS_PATH}/export", {"date_to": "20240101"}),
    ],
)
def test_what_schemathesis_found_is_refused(api: Api, path: str, query: dict[str, str]) -> None:
    # Something to list, so that the listings reach the database.
    assert api.post(INCIDENTS_PATH, json=factories.incident()).status_code == 201
    assert api.post(DEFENDERS_PATH, json=factories.defender()).status_code == 201
    response = api.get(path, params=query)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
