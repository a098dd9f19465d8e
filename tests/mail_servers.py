"""Real mail servers for tests: an SMTP server (aiosmtpd, in this process, over a socket)
and an IMAP server (Debian's Dovecot, its own process, a throwaway port and mail folder).

The app talks to both exactly as it talks to the team's servers; nothing is mocked.
`SmtpServer.behaviour` switches what the next sessions meet: "accept", "refuse" (every
recipient answered 550) or "slow" (the server sleeps before answering DATA, for timeouts).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imap_tools import MailBox

DOVECOT = "/usr/sbin/dovecot"
MAILBOX_USER = "team@example.com"
MAILBOX_PASSWORD = "a-throwaway-mailbox-secret"  # a test server's, on a throwaway port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the SMTP server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    behaviour: str = "accept"  # accept | refuse | slow
    slow_seconds: float = 3.0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.behaviour == "refuse":
            return f"550 5.1.1 <{address}>: recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.behaviour == "slow":
            await asyncio.sleep(self.slow_seconds)
        content = envelope.original_content or b""
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: _Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def behave(self, behaviour: str, slow_seconds: float = 3.0) -> None:
        self.handler.behaviour = behaviour
        self.handler.slow_seconds = slow_seconds

    def reset(self) -> None:
        self.handler.received.clear()
        self.handler.behaviour = "accept"

    def environment(self) -> dict[str, str]:
        """The settings that point the app at this server (no TLS, no login)."""
        return {
            "ONBOARDING_SMTP_HOST": self.host,
            "ONBOARDING_SMTP_PORT": str(self.port),
            "ONBOARDING_SMTP_SECURITY": "none",
        }


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.hostname, controller.port, handler)
    finally:
        controller.stop()


_DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/run
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
first_valid_uid = 100
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def environment(self) -> dict[str, str]:
        """The settings that point the app at this mailbox (no TLS)."""
        return {
            "ONBOARDING_IMAP_HOST": self.host,
            "ONBOARDING_IMAP_PORT": str(self.port),
            "ONBOARDING_IMAP_SECURITY": "none",
            "ONBOARDING_IMAP_USER": self.user,
            "ONBOARDING_IMAP_PASSWORD": self.password,
        }

    def mailbox(self) -> MailBox:
        from imap_tools import MailBoxUnencrypted

        box = MailBoxUnencrypted(self.host, self.port)
        box.login(self.user, self.password)
        return box

    def deliver(self, message: EmailMessage | bytes) -> None:
        """Put a message in the inbox, as the customer's mail server would (IMAP APPEND)."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        with self.mailbox() as box:
            box.append(raw, "INBOX")

    def empty(self) -> None:
        with self.mailbox() as box:
            uids = [m.uid for m in box.fetch(mark_seen=False, headers_only=True) if m.uid]
            if uids:
                box.delete(uids)


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT) and os.geteuid() == 0


@contextmanager
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on a free port in a temporary folder (needs root: it drops to its own users)."""
    base = Path(tempfile.mkdtemp(prefix="imap-"))
    port = free_port()
    try:
        (base / "run").mkdir()
        (base / "mail").mkdir()
        conf = base / "dovecot.conf"
        conf.write_text(_DOVECOT_CONF.format(dir=base, port=port))
        (base / "users").write_text(f"{MAILBOX_USER}:{{PLAIN}}{MAILBOX_PASSWORD}\n")
        shutil.chown(base / "mail", "dovecot", "dovecot")
        os.chmod(base, 0o755)
        os.chmod(base / "run", 0o755)
        # Dovecot forks into the background; its children must not hold a pipe of ours.
        with open(base / "start.log", "wb") as said:
            subprocess.run(
                [DOVECOT, "-c", str(conf)], check=True, stdout=said, stderr=said,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_for(port, base / "dovecot.log")
        yield ImapServer("127.0.0.1", port, MAILBOX_USER, MAILBOX_PASSWORD)
    finally:
        pid_file = base / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            try:
                os.kill(pid, 15)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        shutil.rmtree(base, ignore_errors=True)


def _wait_for(port: int, log: Path) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"Dovecot did not listen on port {port}: {said}")
