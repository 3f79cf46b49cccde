"""A real SMTP server for tests (aiosmtpd), recording every message with its Message-ID.

It can be told to answer ``451`` to the next N messages, or ``550`` for a recipient. Like
most servers it offers PIPELINING (RFC 2920) unless made with ``pipelining=False``.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    message_id: str
    recipients: tuple[str, ...]
    raw: bytes

    def parsed(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=default_policy)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    def __init__(self, *, pipelining: bool = True):
        self.pipelining = pipelining
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.refused = 0
        self._temporary_failures = 0
        self._rejected: dict[str, str] = {}
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # --- what tests tell it -------------------------------------------------------

    def fail_next(self, count: int, answer: str = "451 4.3.0 Mailbox busy, try again later") -> None:
        with self._lock:
            self._temporary_failures = count
            self._temporary_answer = answer

    def reject(self, address: str, answer: str = "550 5.1.1 No such mailbox here") -> None:
        with self._lock:
            self._rejected[address.lower()] = answer

    # --- what tests read ------------------------------------------------------------

    def message_ids(self) -> Counter:
        with self._lock:
            return Counter(item.message_id for item in self.received)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def by_message_id(self, message_id: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.message_id == message_id]

    # --- aiosmtpd handler hooks ----------------------------------------------------------

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self._rejected.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            if self._temporary_failures > 0:
                self._temporary_failures -= 1
                self.refused += 1
                return self._temporary_answer
            headers = BytesHeaderParser(policy=default_policy).parsebytes(envelope.content)
            self.received.append(Received(str(headers.get("Message-ID", "")), tuple(envelope.rcpt_tos),
                                          envelope.content))
            number = len(self.received)
        return f"250 2.0.0 OK queued as sink-{number}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
