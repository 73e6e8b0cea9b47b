"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests: it keeps what it is sent, and answers as
a test tells it (a 4xx, a 5xx, or taking a message and never answering)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd's handler: each DATA kept (as parsed), unless `answer` gives another reply first."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.tries = 0
        self.answer: Callable[[int], str | None] = lambda attempt: None  # attempt number -> SMTP reply
        self.hang_after_keeping: threading.Event | None = None  # set: keep, then wait for it to be set
        self.kept = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.tries += 1
        reply = self.answer(self.tries)
        if reply:
            return reply
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.kept.set()
        if self.hang_after_keeping is not None:  # the message is ours; the sender never hears so
            await asyncio.get_running_loop().run_in_executor(None, self.hang_after_keeping.wait, 30)
        return "250 2.0.0 Ok: queued"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]


class SmtpServer:
    """Plain SMTP on loopback; with `tls` (a certificate and its key, PEM files) it offers STARTTLS, requires
    it, and takes only `login` (user, password) over it."""

    def __init__(
        self,
        *,
        tls: tuple[str, str] | None = None,
        login: tuple[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.mailbox = Mailbox()
        self.host = host
        self.port = free_port()
        self.login = login
        secure: dict = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            secure = {
                "tls_context": context,
                "require_starttls": True,
                "auth_required": True,
                "authenticator": self._authenticate,
            }
        self.controller = Controller(self.mailbox, hostname=host, port=self.port, **secure)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode()) if auth_data else None
        return AuthResult(success=given == self.login, handled=False)

    @property
    def url(self) -> str:
        if self.login:
            return f"smtp://{quote(self.login[0])}:{quote(self.login[1], safe='')}@{self.host}:{self.port}"
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.mailbox.hang_after_keeping is not None:
            self.mailbox.hang_after_keeping.set()
        self.controller.stop()


def self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files in `directory` (the client trusts it through
    SSL_CERT_FILE, as it would trust a real one through the system's store)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Valid whatever the date: OpenSSL checks it against the machine's real clock, which the suite's
        # moved date (CADENCE_TEST_TODAY) does not move.
        .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2099, 12, 31, tzinfo=dt.UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_file), str(key_file)
