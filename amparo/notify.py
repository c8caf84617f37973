"""Sending notifications: e-mail over SMTP (stdlib smtplib) and webhooks signed with HMAC-SHA256.

A notification says that something needs attention and where to look, never what or who: its
subject and body carry an event label, a case reference and a link to sign in, and nothing
else (no names, places or narrative), because mail and webhook receivers are outside the vault.
A webhook request is ``POST`` with a JSON body; ``X-Amparo-Signature: sha256=<hex>`` is
HMAC-SHA256 over ``<timestamp>.<body>`` under the shared secret, and ``X-Amparo-Timestamp``
the Unix time, so a receiver can reject forgeries and replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amparo.settings import Settings

__all__ = ["EVENTS", "Notice", "SendError", "send_email", "send_webhook", "sign"]

SMTP_TIMEOUT_S = 20.0  # a mail server slower than this is retried later
WEBHOOK_TIMEOUT_S = 10.0

# event code -> the one sentence a notification may say about it (nothing identifying).
EVENTS: dict[str, str] = {
    "checkin.missed": "A scheduled check-in was missed. Please act on the escalation plan now.",
    "checkin.resumed": "The missed check-in has been made: the escalation has stopped.",
    "risk.review": "A risk assessment needs review.",
    "urgent.opened": "An urgent action was opened.",
    "test": "This is a test notification.",
}


class SendError(Exception):
    """A delivery failed; the outbox retries it later."""


@dataclass(frozen=True)
class Notice:
    event: str
    reference: str
    link: str
    notification_id: str

    @property
    def subject(self) -> str:
        return f"[Amparo] {self.event} {self.reference}"

    @property
    def body(self) -> str:
        return (
            f"{EVENTS.get(self.event, 'Something needs your attention.')}\n\n"
            f"Reference: {self.reference}\n"
            f"Sign in to see it: {self.link}\n\n"
            "This message deliberately carries no details.\n"
        )

    def payload(self) -> bytes:
        return json.dumps(
            {"event": self.event, "reference": self.reference, "link": self.link,
             "id": self.notification_id},
            sort_keys=True,
        ).encode()  # fmt: skip


def send_email(settings: Settings, to: str, notice: Notice) -> None:
    if not settings.smtp_host:
        raise SendError("no SMTP server configured ([smtp] host in amparo.toml)")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = notice.subject
    message["Message-ID"] = f"<{notice.notification_id}@amparo>"
    message.set_content(notice.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP: {type(exc).__name__}") from None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send_webhook(url: str, secret: str, notice: Notice) -> None:
    if not url.startswith(("https://", "http://")):
        raise SendError("webhook URL must be http(s)")
    body = notice.payload()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Amparo-Timestamp": timestamp,
                 "X-Amparo-Signature": sign(secret, timestamp, body),
                 "User-Agent": "amparo-webhook"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise SendError(f"webhook answered {response.status}")
    except OSError as exc:
        raise SendError(f"webhook: {type(exc).__name__}") from None
