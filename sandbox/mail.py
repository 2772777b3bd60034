"""A local mail catcher: a real SMTP server that keeps what it receives, and a page listing it.

python -m sandbox.mail --smtp-port 1025 --http-port 8025
"""

from __future__ import annotations

import argparse
import html
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from sandbox import free_port


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd hook
        raw = envelope.original_content or b""
        with self.lock:
            self.messages.append(message_from_bytes(raw, policy=default_policy))
        return "250 Message accepted"

    def snapshot(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.snapshot()) >= count:
                return found
            time.sleep(0.05)
        return self.snapshot()


class MailSink:
    """SMTP on 127.0.0.1:``port`` in a background thread; ``mailbox`` holds what arrived."""

    def __init__(self, port: int = 0) -> None:
        self.mailbox = Mailbox()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=port or free_port())

    @property
    def port(self) -> int:
        port: int = self._controller.port
        return port

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def _page(mailbox: Mailbox) -> bytes:
    rows = "".join(
        f"<tr><td>{html.escape(str(m['Date'] or ''))}</td><td>{html.escape(str(m['To']))}</td>"
        f"<td>{html.escape(str(m['Subject']))}</td><td><pre>{html.escape(_body(m))}</pre></td></tr>"
        for m in reversed(mailbox.snapshot())
    )
    return (
        "<!doctype html><meta charset=utf-8><title>Sandbox mailbox</title>"
        "<style>body{font-family:system-ui;margin:2rem}"
        "td{border-top:1px solid #ddd;padding:.4rem;vertical-align:top}</style>"
        f"<h1>Sandbox mailbox</h1><table><tr><th>Date</th><th>To</th><th>Subject</th><th>Body</th></tr>{rows}</table>"
    ).encode()


def _body(message: Message) -> str:
    part: Any = message.get_body(preferencelist=("plain",)) if hasattr(message, "get_body") else None
    return str(part.get_content()) if part is not None else ""


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP catcher with a web view")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    sink = MailSink(args.smtp_port).start()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _page(sink.mailbox)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it
            return

    server = ThreadingHTTPServer(("127.0.0.1", args.http_port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sink.stop()


if __name__ == "__main__":
    main()
