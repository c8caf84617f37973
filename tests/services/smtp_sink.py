"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Sink:
    port: int = 0
    received: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def recipients(self) -> list[str]:
        with self.lock:
            return [to for tos, _ in self.received for to in tos]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FlakySink(Sink):
    """Refuses the first message to each recipient with a temporary error (451), then keeps
    what it receives like Sink."""

    refused: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            fresh = [to for to in envelope.rcpt_tos if to not in self.refused]
            self.refused.extend(fresh)
        if fresh:
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def smtp_sink(sink: Sink | None = None) -> Iterator[Sink]:
    sink = sink or Sink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
