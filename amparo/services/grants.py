"""Groups of accounts and per-case grants (read or write) to users and groups.

A user's access to a case is its own grant merged with those of its groups, ``write``
beating ``read`` (see amparo.services.principals, which turns them into an ``Actor``).
Changing groups requires ``manage_users``; granting or revoking access to a case requires
``manage_grants`` on that case. Each change leaves exactly one audit entry in the same
transaction, holding ids and levels only: never a user's or group's name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.security.permissions import Resource
from amparo.services import principals
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "LEVELS",
    "PRINCIPAL_TYPES",
    "Grant",
    "GrantService",
    "Group",
    "Member",
    "normalise_group_name",
]

LEVELS = ("read", "write")
PRINCIPAL_TYPES = ("user", "group")
_GROUP_NAME = re.compile(r"^\w[\w .@+-]{0,78}\w$")  # after case folding; 80 = the column


def normalise_group_name(name: str) -> str:
    """NFC, case-folded, trimmed, inner spaces collapsed: 'Team  Cauca' is 'team cauca'."""
    folded = " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    return unicodedata.normalize("NFC", folded)


@dataclass(frozen=True)
class Member:
    user_id: str
    username: str


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    created_at: datetime
    members: tuple[Member, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "members": [m.username for m in self.members],
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Grant:
    case_id: str
    principal_type: str  # user | group
    principal_id: str
    principal_name: str
    level: str  # read | write
    granted_at: datetime
    granted_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "principal_type": self.principal_type,
            "principal_id": self.principal_id,
            "principal": self.principal_name,
            "level": self.level,
            "granted_at": self.granted_at.isoformat(),
            "granted_by": self.granted_by,
        }


class GrantService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    # -- groups -----------------------------------------------------------------------------
    def create_group(self, name: str) -> Group:
        self._require_users()
        folded = normalise_group_name(name)
        if not _GROUP_NAME.match(folded):
            raise ValidationError(
                "name", "must be 2 to 80 letters, digits, spaces or . _ - @ + (no edge spaces)"
            )
        group_id = self.r.new_id()
        with self.r.store.write() as conn:
            if self._group_row_by_name(conn, folded) is not None:
                raise Conflict(f"a group named '{folded}' already exists")
            conn.execute(
                sa.insert(schema.user_groups),
                [{"id": group_id, "name": folded, "created_at": self.r.clock.now()}],
            )
            self._audit(conn, "group.create", "group", group_id)
        return self.get_group(group_id)

    def get_group(self, group_id: str) -> Group:
        with self.r.store.read() as conn:
            return self._group(conn, self._group_row(conn, group_id))

    def get_group_by_name(self, name: str) -> Group:
        folded = normalise_group_name(name)
        with self.r.store.read() as conn:
            row = self._group_row_by_name(conn, folded)
            if row is None:
                raise NotFound(f"no group named '{folded}'")
            return self._group(conn, row)

    def list_groups(self) -> list[Group]:
        with self.r.store.read() as conn:
            rows = conn.execute(
                sa.select(schema.user_groups).order_by(schema.user_groups.c.name)
            ).all()
            return [self._group(conn, row) for row in rows]

    def delete_group(self, group_id: str) -> None:
        """Delete a group, its memberships and its grants; its members keep their own."""
        self._require_users()
        g, m = schema.case_grants, schema.group_members
        with self.r.store.write() as conn:
            self._group_row(conn, group_id)
            grants = conn.execute(
                sa.delete(g).where(g.c.principal_type == "group", g.c.principal_id == group_id)
            ).rowcount
            members = conn.execute(sa.delete(m).where(m.c.group_id == group_id)).rowcount
            conn.execute(sa.delete(schema.user_groups).where(schema.user_groups.c.id == group_id))
            self._audit(conn, "group.delete", "group", group_id, members=members, grants=grants)

    def add_member(self, group_id: str, user_id: str) -> None:
        self._require_users()
        m = schema.group_members
        with self.r.store.write() as conn:
            self._group_row(conn, group_id)
            self._user_row(conn, user_id)
            if self._is_member(conn, group_id, user_id):
                raise Conflict(f"user {user_id} is already a member of group {group_id}")
            conn.execute(sa.insert(m), [{"group_id": group_id, "user_id": user_id}])
            self._audit(conn, "group.add_member", "group", group_id, user=user_id)

    def remove_member(self, group_id: str, user_id: str) -> None:
        self._require_users()
        m = schema.group_members
        with self.r.store.write() as conn:
            self._group_row(conn, group_id)
            self._user_row(conn, user_id)
            if not self._is_member(conn, group_id, user_id):
                raise NotFound(f"user {user_id} is not a member of group {group_id}")
            conn.execute(sa.delete(m).where(m.c.group_id == group_id, m.c.user_id == user_id))
            self._audit(conn, "group.remove_member", "group", group_id, user=user_id)

    def members(self, group_id: str) -> list[Member]:
        with self.r.store.read() as conn:
            self._group_row(conn, group_id)
            return self._members(conn, group_id)

    # -- grants -----------------------------------------------------------------------------
    def grant(self, case_id: str, principal_type: str, principal_id: str, level: str) -> Grant:
        """Give a user or group read or write access to a case (replacing its former level)."""
        self.r.require("manage_grants", Resource("case", case_id))
        if level not in LEVELS:
            raise ValidationError("level", f"must be one of {', '.join(LEVELS)}")
        g = schema.case_grants
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            self._check_target(conn, case_id, principal_type, principal_id)
            self._case_row(conn, case_id, live=True)
            key = (g.c.case_id == case_id, g.c.principal_type == principal_type,
                   g.c.principal_id == principal_id)  # fmt: skip
            before = conn.execute(sa.select(g.c.level).where(*key)).scalar()
            values = {"level": level, "granted_at": now, "granted_by": self.r.actor[:80]}
            if before is None:
                conn.execute(
                    sa.insert(g),
                    [{"case_id": case_id, "principal_type": principal_type,
                      "principal_id": principal_id, **values}],
                )  # fmt: skip
            else:
                conn.execute(sa.update(g).where(*key).values(**values))
            detail: dict[str, object] = {
                "principal_type": principal_type,
                "principal": principal_id,
                "level": level,
            }
            if before is not None:
                detail["previous"] = before
            self._audit(conn, "grant.add", "case", case_id, **detail)  # fmt: skip
            return self._grants(conn, case_id, principal_type, principal_id)[0]

    def revoke(self, case_id: str, principal_type: str, principal_id: str) -> None:
        self.r.require("manage_grants", Resource("case", case_id))
        g = schema.case_grants
        with self.r.store.write() as conn:
            self._check_target(conn, case_id, principal_type, principal_id)
            key = (g.c.case_id == case_id, g.c.principal_type == principal_type,
                   g.c.principal_id == principal_id)  # fmt: skip
            before = conn.execute(sa.select(g.c.level).where(*key)).scalar()
            if before is None:
                raise NotFound(f"{principal_type} {principal_id} holds no grant on case {case_id}")
            conn.execute(sa.delete(g).where(*key))
            self._audit(
                conn, "grant.revoke", "case", case_id, principal_type=principal_type,
                principal=principal_id, level=before,
            )  # fmt: skip

    def grants_for_case(self, case_id: str) -> list[Grant]:
        with self.r.store.read() as conn:
            self._case_row(conn, case_id)
            return self._grants(conn, case_id)

    def grants_for_user(self, user_id: str) -> dict[str, str]:
        """case id -> read | write: the user's own grants merged with its groups'."""
        with self.r.store.read() as conn:
            self._user_row(conn, user_id)
            return principals.grants_for_user(conn, user_id)

    # -- helpers ----------------------------------------------------------------------------
    def _require_users(self) -> None:
        self.r.require("manage_users", Resource("users"))

    def _audit(
        self, conn: Connection, action: str, object_type: str, object_id: str, **detail: object
    ) -> None:
        self.r.audit.record(conn, action, object_type=object_type, object_id=object_id,
                            detail=detail)  # fmt: skip

    def _check_target(
        self, conn: Connection, case_id: str, principal_type: str, principal_id: str
    ) -> None:
        if principal_type not in PRINCIPAL_TYPES:
            raise ValidationError("principal_type", f"must be one of {', '.join(PRINCIPAL_TYPES)}")
        self._case_row(conn, case_id)
        if principal_type == "user":
            self._user_row(conn, principal_id)
        else:
            self._group_row(conn, principal_id)

    @staticmethod
    def _case_row(conn: Connection, case_id: str, *, live: bool = False) -> Any:
        c = schema.cases
        row = conn.execute(sa.select(c.c.id, c.c.shredded_at).where(c.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"no case {case_id}")
        if live and row.shredded_at is not None:
            raise Conflict(f"case {case_id} was shredded: there is nothing left to grant")
        return row

    @staticmethod
    def _user_row(conn: Connection, user_id: str) -> Any:
        u = schema.users
        row = conn.execute(sa.select(u.c.id, u.c.username).where(u.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return row

    @staticmethod
    def _group_row(conn: Connection, group_id: str) -> Any:
        ug = schema.user_groups
        row = conn.execute(sa.select(ug).where(ug.c.id == group_id)).first()
        if row is None:
            raise NotFound(f"no group {group_id}")
        return row

    @staticmethod
    def _group_row_by_name(conn: Connection, name: str) -> Any:
        ug = schema.user_groups
        return conn.execute(sa.select(ug).where(ug.c.name == name)).first()

    @staticmethod
    def _is_member(conn: Connection, group_id: str, user_id: str) -> bool:
        m = schema.group_members
        found = conn.execute(
            sa.select(m.c.user_id).where(m.c.group_id == group_id, m.c.user_id == user_id)
        ).first()
        return found is not None

    @staticmethod
    def _members(conn: Connection, group_id: str) -> list[Member]:
        m, u = schema.group_members, schema.users
        rows = conn.execute(
            sa.select(u.c.id, u.c.username)
            .join(m, m.c.user_id == u.c.id)
            .where(m.c.group_id == group_id)
            .order_by(u.c.username)
        ).all()
        return [Member(user_id=str(r.id), username=str(r.username)) for r in rows]

    def _group(self, conn: Connection, row: Any) -> Group:
        return Group(
            id=str(row.id),
            name=str(row.name),
            created_at=utc(row.created_at),
            members=tuple(self._members(conn, str(row.id))),
        )

    @staticmethod
    def _grants(
        conn: Connection,
        case_id: str,
        principal_type: str | None = None,
        principal_id: str | None = None,
    ) -> list[Grant]:
        g, u, ug = schema.case_grants, schema.users, schema.user_groups
        name = sa.case(
            (g.c.principal_type == "user", u.c.username),
            else_=ug.c.name,
        )
        query = (
            sa.select(g, name.label("principal_name"))
            .outerjoin(u, sa.and_(g.c.principal_type == "user", u.c.id == g.c.principal_id))
            .outerjoin(ug, sa.and_(g.c.principal_type == "group", ug.c.id == g.c.principal_id))
            .where(g.c.case_id == case_id)
            .order_by(g.c.principal_type.desc(), name, g.c.principal_id)
        )
        if principal_type is not None and principal_id is not None:
            query = query.where(
                g.c.principal_type == principal_type, g.c.principal_id == principal_id
            )
        return [
            Grant(
                case_id=str(r.case_id),
                principal_type=str(r.principal_type),
                principal_id=str(r.principal_id),
                principal_name="" if r.principal_name is None else str(r.principal_name),
                level=str(r.level),
                granted_at=utc(r.granted_at),
                granted_by=str(r.granted_by),
            )
            for r in conn.execute(query)
        ]
