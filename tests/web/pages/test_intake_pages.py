"""The intake inbox pages: list without contents, open (audited), accept, link, discard."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from amparo.registry import Registry
from tests import factories
from tests.web.conftest import Browser, add_user


@pytest.fixture
def coordinator(registry: Registry, browser_factory: Callable[[], Browser]) -> Browser:
    registry.intake.keygen()
    add_user(registry, "cora", "coordinator")
    browser = browser_factory()
    browser.sign_in("cora")
    return browser


def test_inbox_open_and_accept(coordinator: Browser, registry: Registry) -> None:
    answers = {"what": "Threat at the radio\nTwo men.", "when": "2024-05-14",
               "where": "La Esperanza", "who": "Berta Flores"}  # fmt: skip
    receipt = registry.intake.receive(answers)
    client = coordinator.client
    home = client.get("/")
    assert 'href="/intake"' in home.text
    inbox = client.get("/intake")
    assert inbox.status_code == 200 and receipt.submission_id in inbox.text
    assert "Threat at the radio" not in inbox.text  # the list shows no content
    shown = client.get(f"/intake/{receipt.submission_id}")
    assert "Threat at the radio" in shown.text and "La Esperanza" in shown.text
    assert [e.action for e in registry.audit.entries(action="intake.open")] == ["intake.open"]
    url = f"/intake/{receipt.submission_id}/accept"
    bad = client.post(url, data={"csrf": coordinator.csrf, "country": "HN"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    done = client.post(url, data={"csrf": coordinator.csrf, "country": "HN", "act_type": "A09"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    incident_id = done.headers["location"].rsplit("/", 1)[-1]
    assert registry.incidents.get(incident_id).title == "Threat at the radio"
    assert registry.intake.status(receipt.code) == "acted_on"
    assert receipt.submission_id not in client.get("/intake").text


def test_link_to_a_suggested_defender_and_discard(coordinator: Browser, registry: Registry
                                                   ) -> None:  # fmt: skip
    defender = registry.defenders.add(factories.defender())
    user = registry.accounts.get_by_username("cora")
    assert defender.case_id
    registry.grants.grant(defender.case_id, "user", user.id, "write")
    first = registry.intake.receive({"what": "Followed", "who": "Berta Flores"})
    client = coordinator.client
    page = client.get(f"/intake/{first.submission_id}")
    assert f'value="defender:{defender.id}"' in page.text
    target = {"csrf": coordinator.csrf, "target": f"defender:{defender.id}"}
    linked = client.post(f"/intake/{first.submission_id}/link", follow_redirects=False, data=target)
    assert linked.status_code == 303
    second = registry.intake.receive({"what": "Spam"})
    empty = client.post(f"/intake/{second.submission_id}/discard",
                        data={"csrf": coordinator.csrf, "reason": ""})  # fmt: skip
    assert empty.status_code == 400
    gone = client.post(f"/intake/{second.submission_id}/discard", follow_redirects=False,
                       data={"csrf": coordinator.csrf, "reason": "spam"})  # fmt: skip
    assert gone.status_code == 303 and registry.intake.inbox() == []


def test_only_reviewers_see_the_inbox(registry: Registry, browser_factory: Callable[[], Browser]
                                      ) -> None:  # fmt: skip
    registry.intake.keygen()
    add_user(registry, "dora", "documenter")
    browser = browser_factory()
    browser.sign_in("dora")
    assert 'href="/intake"' not in browser.client.get("/").text
    assert browser.client.get("/intake").status_code == 403
