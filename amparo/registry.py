"""Registry: the one object the CLI, the web app and scripts share for an unlocked vault."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa

from amparo.audit import AuditLog
from amparo.clock import Clock, IdFactory, new_id
from amparo.domain.vocabularies import Vocabularies, load_vocabularies
from amparo.errors import Forbidden, NotFound, VaultError
from amparo.security.keyring import Keyring
from amparo.security.permissions import OPERATOR, Actor, Resource, allowed, cases_allowed
from amparo.services.accounts import AccountService
from amparo.services.cases import CaseService
from amparo.services.checkins import CheckinService
from amparo.services.defenders import DefenderService
from amparo.services.evidence import EvidenceService
from amparo.services.files import FileStore
from amparo.services.grants import GrantService
from amparo.services.incidents import IncidentService
from amparo.services.intake import IntakeService
from amparo.services.notifications import NotificationService
from amparo.services.protection import ProtectionService
from amparo.services.risk import RiskService
from amparo.services.risk_flags import RiskFlagService
from amparo.services.triage import TriageService
from amparo.settings import Settings
from amparo.store import schema
from amparo.store.engine import Store
from amparo.vault import UNLOCK_FAILURES, pending_unlock_failures, unlock_keyring

__all__ = ["Registry"]


class Registry:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        keyring: Keyring,
        *,
        clock: Clock | None = None,
        ids: IdFactory = new_id,
        actor: str = "system",
        principal: Actor = OPERATOR,
    ) -> None:
        self.settings = settings
        self.store = store
        self.keyring = keyring
        self.clock = clock or Clock()
        self.new_id = ids
        self.actor = actor  # the name written to history and the audit log
        self.principal = principal  # whose permissions every service checks
        self._owns_resources = True

    def acting_as(self, principal: Actor, actor: str) -> Registry:
        """A view of this registry for one signed-in user (one web request, say).

        It shares the store and keys; its services check ``principal``'s permissions and
        record ``actor`` in history and audit. Closing a view closes nothing.
        """
        view = Registry(
            self.settings, self.store, self.keyring, clock=self.clock, ids=self.new_id,
            actor=actor, principal=principal,
        )  # fmt: skip
        view._owns_resources = False
        return view

    def allowed(self, action: str, resource: Resource) -> bool:
        return allowed(self.principal, action, resource, self.clock.now())

    def require(self, action: str, resource: Resource) -> None:
        """Raise Forbidden unless the principal may; services call this before acting."""
        if not self.allowed(action, resource):
            raise Forbidden(f"not allowed to {action} this {resource.kind}")

    def require_in_case(self, action: str, kind: str, record_id: str, case_id: str) -> None:
        """Like require, but someone who may not even see the record learns nothing of it:
        NotFound, exactly as for a record that does not exist."""
        if self.allowed(action, Resource(kind, case_id)):
            return
        if action != "read_identity" and self.allowed("read_identity", Resource(kind, case_id)):
            raise Forbidden(f"not allowed to {action} this {kind}")
        raise NotFound(f"no {kind} {record_id}")

    def visible_cases(self, action: str = "read_identity") -> list[str] | None:
        """Cases whose records the principal may see; None means every case (the operator)."""
        if self.principal.role == "operator" and self.allowed(action, Resource("case", "*")):
            return None
        return cases_allowed(self.principal, action, self.clock.now())

    def grant_rows_for_new_case(self, case_id: str) -> list[dict[str, object]]:
        """Whoever opens a case may work in it: a write grant for a signed-in creator."""
        if self.principal.role == "operator":
            return []
        return [
            {
                "case_id": case_id, "principal_type": "user",
                "principal_id": self.principal.user_id, "level": "write",
                "granted_at": self.clock.now(), "granted_by": self.actor,
            }
        ]  # fmt: skip

    @classmethod
    def open(
        cls,
        vault_dir: Path,
        passphrase: str,
        *,
        clock: Clock | None = None,
        ids: IdFactory = new_id,
        actor: str = "system",
    ) -> Registry:
        settings = Settings.load(vault_dir)
        keyring = unlock_keyring(settings, passphrase)
        url = sa.make_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
            keyring.close()
            raise VaultError(f"no database at {url.database}: restore it from a backup")
        store = Store(settings.database_url)
        try:
            # Check ownership before migrating: never upgrade someone else's database.
            with store.read() as conn:
                stored = None
                if sa.inspect(conn).has_table("meta"):
                    stored = conn.execute(
                        sa.select(schema.meta.c.value).where(schema.meta.c.key == "vault_id")
                    ).scalar()
            if stored != keyring.vault_id:
                raise VaultError("this key file does not belong to this database")
            store.migrate()
        except BaseException:
            store.close()
            keyring.close()
            raise
        registry = cls(settings, store, keyring, clock=clock, ids=ids, actor=actor)
        registry._absorb_unlock_failures()
        return registry

    def _absorb_unlock_failures(self) -> None:
        """Move failed unlocks noted in plain text into the tamper-evident audit log."""
        failures = pending_unlock_failures(self.settings.vault_dir)
        if not failures:
            return
        with self.store.write() as conn:
            self.audit.record_many(
                conn, "vault.unlock_failed",
                [("vault", None, {"at": at, "slot": kind}) for at, kind in failures],
                actor="unknown",
            )  # fmt: skip
        (self.settings.vault_dir / UNLOCK_FAILURES).unlink(missing_ok=True)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.store, self.keyring, clock=self.clock, actor=lambda: self.actor)

    @cached_property
    def vocab(self) -> Vocabularies:
        return load_vocabularies()

    @cached_property
    def cases(self) -> CaseService:
        return CaseService(self)

    @cached_property
    def defenders(self) -> DefenderService:
        return DefenderService(self)

    @cached_property
    def incidents(self) -> IncidentService:
        return IncidentService(self)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self)

    @cached_property
    def evidence(self) -> EvidenceService:
        return EvidenceService(self)

    @cached_property
    def triage(self) -> TriageService:
        return TriageService(self)

    @cached_property
    def risk_flags(self) -> RiskFlagService:
        return RiskFlagService(self)

    @cached_property
    def risk(self) -> RiskService:
        return RiskService(self)

    @cached_property
    def protection(self) -> ProtectionService:
        return ProtectionService(self)

    @cached_property
    def checkins(self) -> CheckinService:
        return CheckinService(self)

    @cached_property
    def notifications(self) -> NotificationService:
        return NotificationService(self)

    @cached_property
    def intake(self) -> IntakeService:
        return IntakeService(self)

    @cached_property
    def accounts(self) -> AccountService:
        return AccountService(self)

    @cached_property
    def grants(self) -> GrantService:
        return GrantService(self)

    def meta(self, key: str) -> str | None:
        with self.store.read() as conn:
            value = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == key)
            ).scalar()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        with self.store.write() as conn:
            conn.execute(sa.delete(schema.meta).where(schema.meta.c.key == key))
            conn.execute(sa.insert(schema.meta), [{"key": key, "value": value}])

    @property
    def is_demo(self) -> bool:
        return self.meta("demo") == "true"

    def close(self) -> None:
        if not self._owns_resources:
            return
        self.store.close()
        self.keyring.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
