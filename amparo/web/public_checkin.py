"""The defender's own check-in page, without an account: ``/c/<token>`` (her one-time link)
and ``/checkin`` (the same token typed as a code).

Nothing on it names her, her place or her case: someone who sees her screen, or her browser
history, learns only that a check-in exists. Showing the page spends nothing (link previews
and prefetching must not check her in); only the button's POST does, with the one-time token
itself in the body, which is what makes the form CSRF-safe without a session (a forged post
would need the token), on top of the cross-site check every state change passes. The
response after a check-in gives her the next link. A spent, unknown or stopped token gets
the same neutral page as any other, with the same status; failed tokens count against the
client address with the sign-in throttle's back-off. Responses are ``no-store`` and send no
referrer, so the token never reaches another site or a shared cache. Works without
JavaScript, so over Tor with scripts off. A staff browser with a live session must still
prove its CSRF token here, as everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from amparo.errors import NotFound
from amparo.web.auth import form, get_auth
from amparo.web.i18n import N_

__all__ = ["PUBLIC_CHECKIN_PATHS", "router"]

PUBLIC_CHECKIN_PATHS = ("/checkin", "/c/")
Token = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex, nofollow"}  # fmt: skip
NEUTRAL = N_("This link or code cannot be used. If you were given a newer one, use that, or "
             "contact the person who gave it to you.")  # fmt: skip


def _page(
    request: Request, *, token: str = "", status_code: int = 200, done: datetime | None = None,
    link: str = "", code: str = "", failed: bool = False,
) -> HTMLResponse:  # fmt: skip
    auth = get_auth(request)
    response = auth.render(request, "public/checkin.html", status_code, token=token, done=done,
                           link=link, code=code, failed=failed, neutral=NEUTRAL)  # fmt: skip
    response.headers.update(HEADERS)
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def router() -> APIRouter:
    public = APIRouter(include_in_schema=False)

    @public.get("/checkin", response_class=HTMLResponse)
    def code_page(request: Request) -> HTMLResponse:
        return _page(request)

    @public.get("/c/{token}", response_class=HTMLResponse)
    def link_page(request: Request, token: Token) -> HTMLResponse:
        return _page(request, token=token)

    @public.post("/checkin", response_class=HTMLResponse)
    async def check_in(request: Request) -> HTMLResponse:
        auth = get_auth(request)
        await auth.session(request)  # a live staff session must prove its CSRF token here too
        fields = await form(request)
        token = fields.get("token", "").strip()[:200]
        service = auth.registry.checkins
        address = _address(request)
        wait = service.public_wait(address)
        if wait:
            busy = _page(request, status_code=429, failed=True)
            busy.headers["Retry-After"] = str(max(1, int(wait.total_seconds())))
            return busy
        try:
            due, fresh = service.check_in_with_token(token)
        except NotFound:
            service.public_failure(address)
            return _page(request, failed=True)
        return _page(request, done=due, link=service.link_for(fresh), code=fresh)

    return public
