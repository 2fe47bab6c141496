"""An SMTP email backend that sends short plain-text messages without the email package.

Django's SMTP backend builds every message as a MIME object, serialises it with the
email generator (which folds each header) and parses the sender and each recipient
again (``sanitize_address``). For a reminder (a few ASCII lines to one address) that is
about 0.2 ms of CPU a message, fifty times the cost of writing the same bytes directly;
at batch volumes it is most of a worker's time (bench/NOTES.md, item 9).

``SMTPEmailBackend.send_messages`` writes those bytes itself when a message is one where
the result is known exactly: a single ``text/plain`` part, printable ASCII headers short
enough not to be folded, plain ``user@domain`` recipients, an ASCII body with no line over
the RFC 5322 limit, and no extra header but ``Message-ID``. The bytes are the ones Django
would send (same headers, same order, same values; tests/notifications/test_mail.py
compares them header by header); smtplib dot-stuffs them as it does Django's. Anything
else (non-ASCII, HTML alternatives, attachments, Cc, Bcc, Reply-To, other headers, long
lines or headers) goes to Django's own backend unchanged.

Django 6.0 builds messages with the modern email policy; the comparison tests will say
whether this still matches before an upgrade.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Sequence
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME

# Printable ASCII, no CR or LF: such a header value needs no encoding and cannot inject.
_PLAIN_HEADER = re.compile(r"[\x20-\x7e]*\Z")
# A dot-atom address: sanitize_address returns it as it is (no name to encode, an ASCII
# domain the IDNA codec leaves alone), so it is its own envelope address.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9-]{1,63}"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*\Z")
# Tab, line breaks and printable ASCII: the body goes out as 7bit text. Other control
# characters are left to the email package (str.splitlines and it disagree on them).
_PLAIN_BODY = re.compile(r"[\t\n\r\x20-\x7e]*\Z")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# compat32 folds a header line longer than this; RFC 5322 caps a body line at 998.
_HEADER_LINE_LIMIT = 78
_BODY_LINE_LIMIT = 998
_HEAD = (
    'Content-Type: text/plain; charset="utf-8"\r\n'
    "MIME-Version: 1.0\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
)


def _plain_header(name: str, value: str) -> bool:
    return bool(_PLAIN_HEADER.match(value)) and len(name) + 2 + len(value) <= _HEADER_LINE_LIMIT


def plain_message_bytes(message: EmailMessage) -> bytes | None:
    """The bytes Django's SMTP backend would send for ``message`` when they can be
    written directly, else None. The Date header is the current time, as Django's."""
    # Subclasses (alternatives, a custom message() or recipients()) are Django's to build.
    if type(message) is not EmailMessage:
        return None
    if message.attachments or message.cc or message.bcc or message.reply_to:
        return None
    # Exactly "utf-8" as a string: another spelling or a Charset object makes Django
    # pick another body encoding.
    encoding = message.encoding or settings.DEFAULT_CHARSET
    if message.content_subtype != "plain" or not (
        isinstance(encoding, str) and encoding == "utf-8"
    ):
        return None
    headers = message.extra_headers
    if headers and set(headers) != {"Message-ID"}:
        return None
    subject, from_email, to = str(message.subject), str(message.from_email), message.to
    if not to or not all(isinstance(a, str) and _PLAIN_ADDRESS.match(a) for a in to):
        return None
    to_header = ", ".join(to)
    message_id = headers.get("Message-ID") or make_msgid(domain=DNS_NAME)
    if not (
        _plain_header("Subject", subject)
        and _plain_header("From", from_email)
        and _plain_header("To", to_header)
        and _plain_header("Message-ID", str(message_id))
    ):
        return None
    body = str(message.body)
    if not _PLAIN_BODY.match(body):
        return None
    lines = _LINE_BREAK.split(body)
    if any(len(line) > _BODY_LINE_LIMIT for line in lines):
        return None
    head = (
        f"{_HEAD}Subject: {subject}\r\nFrom: {from_email}\r\nTo: {to_header}\r\n"
        f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n"
        f"Message-ID: {message_id}\r\n\r\n"
    )
    return (head + "\r\n".join(lines)).encode("ascii")


class SMTPEmailBackend(EmailBackend):
    """Django's SMTP backend, writing plain-text messages directly (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The envelope sender for each From seen on this connection: parsing it again
        # for every message of a batch was a sixth of the cost.
        self._envelope_from: dict[str, str] = {}

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        # The parent's lock and open/close bracket, so a batch handed over at once is
        # still sent over one connection; the lock is re-entrant for the fallback.
        with self._lock:
            new_conn_created = self.open()
            if not self.connection or new_conn_created is None:
                return 0  # open() failed silently, as the parent does
            sent = 0
            try:
                for message in email_messages:
                    raw = plain_message_bytes(message)
                    if raw is None:
                        sent += super().send_messages([message])
                    elif self._send_plain(message, raw):
                        sent += 1
            finally:
                if new_conn_created:
                    self.close()
        return sent

    def _send_plain(self, message: EmailMessage, raw: bytes) -> bool:
        assert self.connection is not None  # opened by send_messages
        from_email = str(message.from_email)
        envelope_from = self._envelope_from.get(from_email)
        if envelope_from is None:
            envelope_from = sanitize_address(from_email, "utf-8")
            self._envelope_from[from_email] = envelope_from
        try:
            self.connection.sendmail(envelope_from, list(message.to), raw)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
