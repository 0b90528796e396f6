"""Outgoing mail behind one protocol: SMTP when configured, else a file per message (and a log line).

The log line names the recipient, the subject and the file, never the body: the body carries a token.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

__all__ = ["FileMailer", "Mail", "Mailer", "SmtpMailer"]

_log = logging.getLogger("gaia.auth.mail")


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@gaia>"
    message.set_content(mail.text)
    return message


class FileMailer:
    """Writes each message as ``<dir>/<time>-<recipient>.eml`` (the development and no-SMTP mailer)."""

    def __init__(self, *, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    async def send(self, mail: Mail) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", mail.to)
        path = self._directory / f"{time.time_ns()}-{safe}.eml"
        path.write_bytes(bytes(_message(mail, self._sender)))
        _log.info("mail to %s (%s) written to %s", mail.to, mail.subject, path)


class SmtpMailer:
    """Sends through an SMTP server (STARTTLS unless disabled), in a worker thread."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout_s: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout_s = timeout_s

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password)
            smtp.send_message(message)

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._deliver, _message(mail, self._sender))
        _log.info("mail to %s (%s) sent through %s:%d", mail.to, mail.subject, self._host, self._port)
