"""API clients that authenticate with bearer tokens, as scripts and partner systems do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from amparo.registry import Registry
from amparo.services.accounts import User
from tests.web.conftest import BASE_URL, add_user


@dataclass
class Api:
    """A TestClient that sends ``Authorization: Bearer`` on every request."""

    client: TestClient
    registry: Registry
    user: User
    token: str

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_as(app: FastAPI, registry: Registry) -> Iterator[ApiFactory]:
    """``api_as("coordinator", scope="write", name="bea")``: a token client for a new user."""
    with TestClient(app, base_url=BASE_URL) as client:

        def make(role: str = "coordinator", *, scope: str = "export", name: str | None = None,
                 ) -> Api:  # fmt: skip
            user = add_user(registry, name or f"{role}-{scope}", role)
            _, token = registry.accounts.create_token(user.id, "tests", scope, 30)
            return Api(client, registry, user, token)

        yield make


@pytest.fixture
def api(api_as: ApiFactory) -> Api:
    """A coordinator whose token may read, write and export (in the cases it can see)."""
    return api_as("coordinator", scope="export", name="coord")
