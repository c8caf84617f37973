"""Who may do what: one policy table and one function, ``allowed``, deny by default.

Every service asks ``allowed(actor, action, resource)`` before acting; nothing else decides.
A rule grants an action on a kind of resource to a role, under a condition:

- ``any``       : no further condition;
- ``member``    : the actor holds a read or write grant on the resource's case (directly or
                  through a group);
- ``writer``    : the actor holds a write grant on the resource's case;
- ``reauth``    : the actor re-entered password and second factor within REAUTH_WINDOW;
- ``member+reauth``, ``writer+reauth``: both.

Identities (names, contacts, narratives, sources) are only ever visible to members of the
case (need-to-know), whatever the role; analysts see aggregates and pseudonymised facets only.
``docs/permissions.md`` is generated from ``POLICY`` and a test fails when it is stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = [
    "ACTIONS",
    "OPERATOR",
    "POLICY",
    "REAUTH_WINDOW",
    "RESOURCES",
    "ROLES",
    "USER_ROLES",
    "Actor",
    "Grants",
    "Resource",
    "Rule",
    "allowed",
    "cases_allowed",
    "render_markdown",
]

REAUTH_WINDOW = timedelta(minutes=5)  # "re-authenticated recently" for dangerous operations

ROLES: Mapping[str, str] = {
    "operator": "the vault holder at the command line, unlocked with the vault passphrase: "
    "holding the master key, it can do everything (audited as cli:<system user>)",
    "admin": "runs the installation: accounts, grants, keys, audit; reads cases it is granted",
    "coordinator": "leads protection work: manages grants and exports for its cases",
    "documenter": "records incidents and profiles in the cases it works on",
    "analyst": "studies patterns: aggregates and pseudonymised facets, never identities",
    "viewer": "reads the cases it is granted, changes nothing",
}

# Roles an account can have; ``operator`` belongs to the passphrase holder at the CLI only.
USER_ROLES: tuple[str, ...] = tuple(role for role in ROLES if role != "operator")

RESOURCES: Mapping[str, str] = {
    "registry": "the registry as a whole (creating records, listing, aggregates)",
    "case": "a case and everything filed in it",
    "incident": "an incident (facets; its text and sources are identities)",
    "defender": "a defender profile",
    "file": "an evidence file",
    "users": "accounts, groups and API tokens",
    "audit": "the audit log",
    "vault": "the vault keys",
    "intake": "the intake inbox (sealed submissions), intake keys and field devices",
}

ACTIONS: Mapping[str, str] = {
    "create": "create a record (filed in a case the actor can write, or a new one)",
    "read": "see coded facets (act types, dates, country) of records",
    "read_identity": "see names, contacts, narratives, places, sources and files",
    "read_pseudonymised": "see facets with identities replaced by stable pseudonyms",
    "read_aggregates": "see counts with small numbers suppressed",
    "write": "amend, restore or attach to records",
    "delete": "delete records (recoverable from history)",
    "export": "export records out of the vault",
    "read_original": "download the original of an evidence file, metadata and all (the shared "
    "copy has its metadata removed)",
    "shred": "destroy a case's key and every record in it",
    "manage_grants": "grant or revoke access to a case",
    "manage_users": "add, disable and reset accounts, groups and tokens",
    "read_audit": "read and verify the audit log",
    "key_operations": "change the passphrase, recover, export audit checkpoints",
    "triage": "triage online abuse on a defender's behalf: store a batch of messages for her, "
    "relabel or dismiss them, accept them as incidents (seeing a batch needs read_identity)",
    "review_intake": "open sealed intake submissions and import field bundles; accept, link or "
    "discard submissions (accepting also needs create, linking write on the target)",
    "manage_intake": "create, rotate and retire intake keys; register and revoke field devices",
}


@dataclass(frozen=True)
class Rule:
    role: str
    action: str
    resource: str
    condition: str = "any"


def _rules(role: str, resource: str, condition: str, *actions: str) -> tuple[Rule, ...]:
    return tuple(Rule(role, action, resource, condition) for action in actions)


POLICY: tuple[Rule, ...] = (
    # operator: whoever holds the vault passphrase holds every key already
    *(Rule("operator", action, resource) for resource in RESOURCES for action in ACTIONS),
    # admin: runs the installation, and sees identities only where granted
    *_rules("admin", "users", "reauth", "manage_users"),
    *_rules("admin", "case", "reauth", "manage_grants", "shred"),
    *_rules("admin", "audit", "any", "read_audit"),
    *_rules("admin", "vault", "reauth", "key_operations"),
    *_rules("admin", "registry", "any", "create", "read", "read_aggregates"),
    *_rules("admin", "case", "member", "read", "read_identity"),
    *_rules("admin", "case", "writer", "write", "delete"),
    *_rules("admin", "case", "member+reauth", "export", "read_original"),
    *_rules("admin", "case", "writer", "triage"),
    *_rules("admin", "intake", "reauth", "manage_intake"),
    # coordinator: runs the protection work of its cases
    *_rules("coordinator", "registry", "any", "create", "read", "read_aggregates"),
    *_rules("coordinator", "case", "member", "read", "read_identity"),
    *_rules("coordinator", "case", "writer", "write", "delete"),
    *_rules("coordinator", "case", "writer+reauth", "manage_grants", "export"),
    *_rules("coordinator", "case", "member", "read_original"),
    *_rules("coordinator", "case", "writer", "triage"),
    *_rules("coordinator", "intake", "any", "review_intake"),
    # documenter: records what happened in its cases
    *_rules("documenter", "registry", "any", "create", "read"),
    *_rules("documenter", "case", "member", "read", "read_identity"),
    *_rules("documenter", "case", "writer", "write", "read_original", "triage"),
    # analyst: patterns, never people
    *_rules("analyst", "registry", "any", "read_aggregates", "read_pseudonymised"),
    # viewer: reads what it is granted
    *_rules("viewer", "case", "member", "read", "read_identity"),
)

# Records filed in a case are governed by the case's rules.
CASE_SCOPED = frozenset({"case", "incident", "defender", "file"})


class Grants(Mapping[str, str]):
    """Case id -> grant level, immutable, with each level's cases listed in order once.

    Built once per load of a user's grants (and cached with them by the web server), so that
    each request's need-to-know filter costs no pass over thousands of grants.
    """

    __slots__ = ("_levels", "_map")

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self._map: dict[str, str] = dict(mapping or {})
        levels: dict[str, list[str]] = {}
        for case_id, level in self._map.items():
            levels.setdefault(level, []).append(case_id)
        self._levels = {level: sorted(ids) for level, ids in levels.items()}

    @property
    def by_level(self) -> Mapping[str, list[str]]:
        return self._levels

    def __getitem__(self, case_id: str) -> str:
        return self._map[case_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"Grants({self._map!r})"


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: str
    grants: Mapping[str, str] = field(default_factory=dict)  # case id -> read | write
    reauthenticated_at: datetime | None = None
    mfa_complete: bool = False
    # Actions whose "reauth" condition the credential itself satisfies: an API token made for
    # exports was created deliberately by an administrator; a script cannot type a code.
    standing_reauth: frozenset[str] = frozenset()


OPERATOR = Actor(user_id="operator", role="operator", mfa_complete=True)


@dataclass(frozen=True)
class Resource:
    kind: str
    case_id: str | None = None


def _holds(actor: Actor, condition: str, action: str, resource: Resource, now: datetime) -> bool:
    for part in condition.split("+"):
        if part == "any":
            continue
        if part in ("member", "writer"):
            level = actor.grants.get(resource.case_id or "")
            if level is None or (part == "writer" and level != "write"):
                return False
        elif part == "reauth":
            if action in actor.standing_reauth:
                continue
            at = actor.reauthenticated_at
            if at is None or not (timedelta(0) <= now - at <= REAUTH_WINDOW):
                return False
        else:  # an unknown condition never grants anything
            return False
    return True


def allowed(actor: Actor | None, action: str, resource: Resource, now: datetime) -> bool:
    """True only if a rule of the actor's role grants ``action`` on ``resource`` right now."""
    if actor is None or not actor.mfa_complete:
        return False
    kind = "case" if resource.kind in CASE_SCOPED else resource.kind
    if kind == "case" and resource.case_id is None:
        return False
    return any(
        rule.role == actor.role
        and rule.action == action
        and rule.resource == kind
        and _holds(actor, rule.condition, action, resource, now)
        for rule in POLICY
    )


def cases_allowed(actor: Actor | None, action: str, now: datetime) -> list[str]:
    """The granted cases in which ``action`` is allowed, as ``allowed`` would decide per case.

    A rule looks at a case only through the actor's grant level on it (``_holds``), so
    ``allowed`` is asked once per level, not once per grant: a coordinator holds thousands.
    """
    if actor is None:
        return []
    grants = actor.grants if isinstance(actor.grants, Grants) else Grants(actor.grants)
    out: list[str] = []
    chosen = 0
    for case_ids in grants.by_level.values():
        if allowed(actor, action, Resource("case", case_ids[0]), now):
            out += case_ids
            chosen += 1
    return sorted(out) if chosen > 1 else out


def render_markdown() -> str:
    lines = [
        "# Permissions",
        "",
        "Generated by `python -m amparo.security.permissions` from the policy table in",
        "`amparo/security/permissions.py`; a test fails when this page is stale. Anything not",
        "listed is denied. Nothing is allowed before the second factor is complete.",
        "",
        "Conditions: **member** — holds a read or write grant on the case (directly or through",
        "a group); **writer** — holds a write grant; **reauth** — re-entered password and second",
        f"factor within the last {int(REAUTH_WINDOW.total_seconds() // 60)} minutes. Incidents,",
        "defender profiles and files follow the rules of the case they are filed in.",
        "",
        "## Roles",
        "",
        *[f"- **{role}**: {text}" for role, text in ROLES.items()],
        "",
        "## Actions",
        "",
        *[f"- `{action}`: {text}" for action, text in ACTIONS.items()],
        "",
        "## Policy",
        "",
        "| role | action | on | condition |",
        "|---|---|---|---|",
        *[f"| {r.role} | `{r.action}` | {r.resource} | {r.condition} |" for r in POLICY],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
