"""Administration: accounts, groups, case grants, API tokens and the audit log.

Changing people and permissions needs a recent re-authentication (docs/permissions.md): when
the policy refuses for that reason the page sends the user to /reauth and back here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.audit import ACTIONS
from amparo.errors import AmparoError, Forbidden, ValidationError
from amparo.security.permissions import USER_ROLES, Resource
from amparo.services.accounts import MAX_TOKEN_DAYS, TOKEN_SCOPES
from amparo.web.auth import CurrentUser
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render

__all__ = ["router"]

RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
AUDIT_PAGE = 200


def _field(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def router() -> APIRouter:
    pages = APIRouter()

    def admin_page(
        request: Request, ctx: CurrentUser, *, error: str | None = None,
        notice: str | None = None, secret: str | None = None, status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        reg = ctx.registry
        reg.require("read_audit", Resource("audit"))  # admins only: the same rule as the log
        users = reg.accounts.list_users()
        groups = [(g, reg.grants.members(g.id)) for g in reg.grants.list_groups()]
        tokens = reg.accounts.list_tokens()
        return render(
            request, ctx, "admin/index.html", status_code, users=users, groups=groups,
            tokens=tokens, roles=USER_ROLES, scopes=TOKEN_SCOPES, max_days=MAX_TOKEN_DAYS,
            error=error, notice=notice, secret=secret,
        )  # fmt: skip

    async def act(request: Request, ctx: CurrentUser, action: Any) -> Response:
        """Run an admin action; re-authenticate first when the policy asks for it."""
        ctx.registry.require("read_audit", Resource("audit"))  # administrators only
        try:
            result = action(await read_form(request))
        except Forbidden:
            if ctx.session is not None and not ctx.registry.principal.reauthenticated_at:
                return RedirectResponse("/reauth?next=" + quote("/admin"), status_code=303)
            raise
        except AmparoError as exc:
            return admin_page(request, ctx, error=str(exc), status_code=422)
        if isinstance(result, str):  # a token secret, shown once
            return admin_page(request, ctx, notice=N_("Token created. Copy it now: it will "
                              "not be shown again."), secret=result)  # fmt: skip
        return RedirectResponse("/admin?done=1", status_code=303)

    @pages.get("/admin", response_class=HTMLResponse)
    def index(
        request: Request, ctx: CurrentUser, done: Annotated[int | None, Query(ge=0, le=1)] = None
    ) -> Response:
        return admin_page(request, ctx, notice=N_("Done.") if done else None)

    @pages.post("/admin/users")
    async def add_user(request: Request, ctx: CurrentUser) -> Response:
        def run(form: Any) -> None:
            role = _field(form, "role")
            if role not in USER_ROLES:
                raise ValidationError("role", f"must be one of {', '.join(USER_ROLES)}")
            ctx.registry.accounts.add_user(
                _field(form, "username"),
                _field(form, "password", 1000),
                role,
                _field(form, "display_name") or None,
            )

        return await act(request, ctx, run)

    @pages.post("/admin/users/{user_id}/{change}")
    async def change_user(
        request: Request, ctx: CurrentUser, user_id: RecordId,
        change: Annotated[str, Path(pattern="^(disable|enable|reset-mfa)$")],
    ) -> Response:  # fmt: skip
        accounts = ctx.registry.accounts
        operation = {"disable": accounts.disable, "enable": accounts.enable,
                     "reset-mfa": accounts.reset_mfa}[change]  # fmt: skip
        return await act(request, ctx, lambda form: operation(user_id) and None)

    @pages.post("/admin/groups")
    async def add_group(request: Request, ctx: CurrentUser) -> Response:
        return await act(request, ctx, lambda form: ctx.registry.grants.create_group(
            _field(form, "name")) and None)  # fmt: skip

    @pages.post("/admin/groups/{group_id}/members")
    async def add_member(request: Request, ctx: CurrentUser, group_id: RecordId) -> Response:
        def run(form: Any) -> None:
            user = ctx.registry.accounts.get_by_username(_field(form, "username"))
            ctx.registry.grants.add_member(group_id, user.id)

        return await act(request, ctx, run)

    @pages.post("/admin/grants")
    async def grant(request: Request, ctx: CurrentUser) -> Response:
        def run(form: Any) -> None:
            kind, name = _field(form, "principal_type"), _field(form, "principal")
            if kind == "group":
                principal_id = ctx.registry.grants.get_group_by_name(name).id
            elif kind == "user":
                principal_id = ctx.registry.accounts.get_by_username(name).id
            else:
                raise ValidationError("principal_type", "must be user or group")
            case_id = _field(form, "case_id", 32).lower()
            if _field(form, "level") == "none":
                ctx.registry.grants.revoke(case_id, kind, principal_id)
            else:
                ctx.registry.grants.grant(case_id, kind, principal_id, _field(form, "level"))

        return await act(request, ctx, run)

    @pages.post("/admin/tokens")
    async def create_token(request: Request, ctx: CurrentUser) -> Response:
        def run(form: Any) -> str:
            user = ctx.registry.accounts.get_by_username(_field(form, "username"))
            days = _field(form, "days")
            if not days.isdigit():
                raise ValidationError("days", "must be a number of days")
            _, secret = ctx.registry.accounts.create_token(
                user.id, _field(form, "name", 120), _field(form, "scope"), int(days)
            )
            return secret

        return await act(request, ctx, run)

    @pages.post("/admin/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, ctx: CurrentUser, token_id: RecordId) -> Response:
        return await act(request, ctx,
                         lambda form: ctx.registry.accounts.revoke_token(token_id))  # fmt: skip

    @pages.get("/admin/audit", response_class=HTMLResponse)
    def audit(
        request: Request, ctx: CurrentUser,
        actor: Annotated[str | None, Query(max_length=120)] = None,
        action: Annotated[str | None, Query(max_length=60)] = None,
        since: Annotated[str | None, Query(max_length=10)] = None,
        object_id: Annotated[str | None, Query(max_length=32)] = None,
    ) -> Response:  # fmt: skip
        reg = ctx.registry
        reg.require("read_audit", Resource("audit"))
        error = None
        entries: list[Any] = []
        try:
            start = None
            if since:
                try:
                    start = datetime.fromisoformat(since).replace(tzinfo=UTC)
                except ValueError:
                    raise ValidationError("since", "must be a date, YYYY-MM-DD") from None
            entries = reg.audit.entries(
                actor=actor or None, action=action or None, since=start,
                object_id=object_id or None,
            )[-AUDIT_PAGE:][::-1]  # fmt: skip
        except ValidationError as exc:
            error = str(exc)
        return render(
            request, ctx, "admin/audit.html", 422 if error else 200, entries=entries,
            actions=sorted(ACTIONS), chosen={"actor": actor or "", "action": action or "",
                                             "since": since or "", "object_id": object_id or ""},
            error=error, page_size=AUDIT_PAGE,
        )  # fmt: skip

    return pages
