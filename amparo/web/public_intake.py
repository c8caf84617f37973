"""The public report form, without an account: ``<intake_form>`` (default ``/report``) and its
status page ``<intake_form>/status``.

Made for someone who has just been threatened, on a phone, maybe over Tor with scripts off:
plain HTML forms, no JavaScript, no third-party asset, no captcha; the language follows
``?lang=`` (links on the page), else the browser. The form asks only what a reviewer needs.
The post is read into memory (amparo.web.memory_form: never a temporary file), checked and
sealed to the intake public key by amparo.services.intake before anything is written; the
answer shows the receipt code once. The status page takes the code by POST, so it stays out
of the address bar, history and logs, and tells received / in review / acted on, nothing
else. Every response is ``no-store`` with no referrer.

CSRF: cross-site posts are refused for every route by the app. A staff browser with a live
session must still prove its CSRF token here, as everywhere (the page carries it); the token
is read from the form parsed in memory, never through Starlette's spooling parser.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from amparo.errors import NotFound, ValidationError
from amparo.services.intake import (
    ANSWERS,
    CONSENTS,
    MAX_FILES,
    MAX_SUBMISSION_BYTES,
    IntakeThrottled,
)
from amparo.web import i18n
from amparo.web.auth import CSRF_FIELD, CSRF_HEADER, CsrfRejected, get_auth
from amparo.web.i18n import N_
from amparo.web.memory_form import read_memory_form

__all__ = ["FORM_LIMIT", "PUBLIC_INTAKE_PATHS", "router"]

# The default form and the API: public (for tests that list what needs no sign-in).
PUBLIC_INTAKE_PATHS = ("/report", "/api/v1/intake")

FORM_LIMIT = MAX_SUBMISSION_BYTES + 1024 * 1024  # files plus answers and multipart framing
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex, nofollow"}  # fmt: skip
MESSAGES = {
    "what": N_("Please tell us what happened."),
    "files": N_(
        "A file could not be accepted: too large, too many, empty, or not safe to "
        "open. You can send the report without it."
    ),
    "other": N_("Some answers could not be accepted. Please check them and send again."),
    "busy": N_("Too many reports were sent from here in the last hour. Please try again later."),
    "closed": N_("Reports cannot be received right now. Please try again later."),
    "unknown": N_("This code is not known. Check it and try again."),
}
STATUS_TEXT = {
    "received": N_("Received: it is waiting for review."),
    "in_review": N_("In review: someone is looking at it."),
    "acted_on": N_("Acted on: it has been reviewed and dealt with."),
}


def _language(request: Request, chosen: str | None = None) -> None:
    lang = chosen or request.query_params.get("lang")
    if lang in i18n.LANGUAGES:
        request.state.amparo_language = lang


def router(path: str) -> APIRouter:
    public = APIRouter(include_in_schema=False)
    status_path = f"{path}/status"

    def page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
        auth = get_auth(request)
        context.setdefault("mode", "form")
        context.setdefault("answers", {})
        info = auth.sessions.load(auth.secret(request))
        if info is not None:  # a staff browser: its forms carry the token, as everywhere
            context["csrf"] = auth.sessions.csrf_token(info)
        response = auth.render(
            request, "public/intake.html", status_code, form_path=path, status_path=status_path,
            consents=CONSENTS, max_files=MAX_FILES, limits=ANSWERS,
            max_mib=MAX_SUBMISSION_BYTES // (1024 * 1024), **context,
        )  # fmt: skip
        response.headers.update(HEADERS)
        return response

    def address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    @public.get(path, response_class=HTMLResponse)
    def form_page(request: Request) -> HTMLResponse:
        _language(request)
        return page(request)

    @public.post(path, response_class=HTMLResponse)
    async def submit(request: Request) -> HTMLResponse:
        names = frozenset({*ANSWERS, "consent", "lang", CSRF_FIELD})
        auth = get_auth(request)
        live = auth.sessions.load(auth.secret(request))
        multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
        if live is not None and not multipart:
            await auth.session(request)  # refuses a missing or wrong token
        try:
            posted = await read_memory_form(request, names, max_files=MAX_FILES,
                                            max_file_bytes=MAX_SUBMISSION_BYTES)  # fmt: skip
        except ValidationError as exc:
            _language(request)
            key = "files" if exc.field == "files" else "other"
            return page(request, 400, error=MESSAGES[key])
        if live is not None:
            token = request.headers.get(CSRF_HEADER) or posted.first(CSRF_FIELD)
            if not auth.sessions.check_csrf(live, token):
                raise CsrfRejected
        _language(request, posted.first("lang"))
        answers: dict[str, Any] = {name: posted.first(name) for name in ANSWERS}
        answers["consent"] = [c for c in posted.fields.get("consent", []) if c in CONSENTS]
        answers["language"] = getattr(request.state, "amparo_language", None) or get_auth(
            request).language(request)  # fmt: skip
        service = get_auth(request).registry.intake
        try:
            receipt = service.receive(answers, posted.files, channel="form",
                                      address=address(request))  # fmt: skip
        except IntakeThrottled as exc:
            busy = page(request, 429, error=MESSAGES["busy"], answers=answers)
            busy.headers["Retry-After"] = str(max(1, int(exc.retry_after.total_seconds())))
            return busy
        except NotFound:
            return page(request, 503, error=MESSAGES["closed"], answers=answers)
        except ValidationError as exc:
            key = exc.field if exc.field in ("what", "files") else "other"
            return page(request, 400, error=MESSAGES[key], answers=answers)
        finally:
            posted.files.clear()  # drop our references to the plaintext as soon as possible
        return page(request, mode="receipt", code=receipt.code)

    @public.get(status_path, response_class=HTMLResponse)
    def status_page(request: Request) -> HTMLResponse:
        _language(request)
        return page(request, mode="status")

    @public.post(status_path, response_class=HTMLResponse)
    async def status(request: Request) -> HTMLResponse:
        from amparo.web.auth import form

        await get_auth(request).session(request)  # a live staff session proves its token
        try:
            fields = await form(request)
        except ValidationError:
            fields = {}
        _language(request, fields.get("lang"))
        service = get_auth(request).registry.intake
        try:
            state = service.status(fields.get("code", "")[:200], address(request))
        except IntakeThrottled as exc:
            busy = page(request, 429, mode="status", error=i18n.N_(
                "Too many attempts. Wait a little, then try again."))  # fmt: skip
            busy.headers["Retry-After"] = str(max(1, int(exc.retry_after.total_seconds())))
            return busy
        except NotFound:
            return page(request, mode="status", error=MESSAGES["unknown"])
        return page(request, mode="status", state=state, state_text=STATUS_TEXT[state])

    return public
