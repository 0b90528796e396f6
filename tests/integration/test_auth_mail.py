"""The mailers: SMTP against a small local SMTP server, and the file mailer (its log line hides the body)."""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes
from pathlib import Path

import pytest

from gaia_services.auth.mailer import FileMailer, Mail, SmtpMailer


class SmtpSink:
    """Just enough of RFC 5321 to accept mail: EHLO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, recipients = "", []
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line.decode().strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                writer.write(b"250 sink\r\n")
            elif verb.startswith("MAIL FROM:"):
                sender = line.decode().strip()[10:]
                writer.write(b"250 OK\r\n")
            elif verb.startswith("RCPT TO:"):
                recipients.append(line.decode().strip()[8:])
                writer.write(b"250 OK\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.messages.append((sender, recipients, data))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


async def test_smtp_mailer_delivers() -> None:
    sink = SmtpSink()
    await sink.start()
    try:
        mailer = SmtpMailer(
            host="127.0.0.1", port=sink.port, sender="Gaia <no-reply@gaia.local>", starttls=False
        )
        await mailer.send(
            Mail(to="ann@gaia.test", subject="Confirm", text="open https://x/confirm?token=abc")
        )
    finally:
        await sink.stop()
    [(sender, recipients, data)] = sink.messages
    assert sender == "<no-reply@gaia.local>" and recipients == ["<ann@gaia.test>"]
    message = message_from_bytes(data)
    assert message["Subject"] == "Confirm" and message["To"] == "ann@gaia.test"
    assert "token=abc" in data.decode()


async def test_file_mailer_writes_one_file_and_logs_no_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = FileMailer(directory=tmp_path / "mail", sender="Gaia <no-reply@gaia.local>")
    with caplog.at_level(logging.INFO, logger="gaia.auth.mail"):
        await mailer.send(Mail(to="bo@gaia.test", subject="Confirm", text="token=secret-token-123"))
    [path] = list((tmp_path / "mail").glob("*.eml"))
    assert "token=secret-token-123" in path.read_text()
    assert "bo@gaia.test" in caplog.text and "secret-token-123" not in caplog.text
