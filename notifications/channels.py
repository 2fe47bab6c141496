"""Delivery channels. Each ``deliver`` either returns (delivered) or raises.

SMS goes through a pluggable backend chosen by ``STEPWISE_SMS_BACKEND`` (an environment
variable read by clinic/settings.py, like the others below):
- ``file`` (default): one JSON line per text in ``var/sms/outbox.jsonl`` (development);
- ``console``: the log;
- ``locmem``: kept in ``sms_outbox`` (tests);
- ``http``: a Twilio-compatible REST API: ``POST SMS_HTTP_URL`` with form fields
  ``To``, ``From``, ``Body`` and HTTP basic auth ``SMS_HTTP_USER``:``SMS_HTTP_TOKEN``
  (for Twilio: ``https://api.twilio.com/2010-04-01/Accounts/<SID>/Messages.json``);
- or a dotted path to a class with ``send(to, body, reference)``.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from email.utils import formatdate
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

SMS_BACKEND = settings.STEPWISE_SMS_BACKEND
SMS_HTTP_URL = settings.SMS_HTTP_URL
SMS_HTTP_USER = settings.SMS_HTTP_USER
SMS_HTTP_TOKEN = settings.SMS_HTTP_TOKEN
SMS_FROM = settings.SMS_FROM
# Shared secret the provider sends with inbound texts (header or ?token=).
SMS_WEBHOOK_SECRET = settings.SMS_WEBHOOK_SECRET
SMS_FILE = Path(settings.STEPWISE_SMS_FILE)
# Base URL of the portal in message links (messages carry no details, only this link).
BASE_URL = settings.STEPWISE_BASE_URL.rstrip("/")
# A send that hangs would hold a worker slot (and its claim) forever.
SEND_TIMEOUT_SECONDS = 20

sms_outbox: list[dict] = []


class DeliveryError(Exception):
    """The provider refused or could not be reached: worth a retry."""


class FileSmsBackend:
    def send(self, to: str, body: str, reference: str) -> None:
        SMS_FILE.parent.mkdir(parents=True, exist_ok=True)
        with SMS_FILE.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"to": to, "body": body, "reference": reference}) + "\n")


class ConsoleSmsBackend:
    def send(self, to: str, body: str, reference: str) -> None:
        logger.info("SMS to ...%s (%s): %s", to[-4:], reference, body)


class LocmemSmsBackend:
    def send(self, to: str, body: str, reference: str) -> None:
        sms_outbox.append({"to": to, "body": body, "reference": reference})


class HttpSmsBackend:
    """Twilio-compatible: form-encoded POST, basic auth, 2xx is accepted."""

    def send(self, to: str, body: str, reference: str) -> None:
        if not (SMS_HTTP_URL and SMS_FROM):
            raise DeliveryError("SMS_HTTP_URL and SMS_FROM must be set for the http SMS backend")
        data = urllib.parse.urlencode({"To": to, "From": SMS_FROM, "Body": body}).encode()
        request = urllib.request.Request(SMS_HTTP_URL, data=data, method="POST")  # noqa: S310
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if SMS_HTTP_USER:
            token = base64.b64encode(f"{SMS_HTTP_USER}:{SMS_HTTP_TOKEN}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        request.add_header("Idempotency-Key", reference)
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"SMS provider answered HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS provider answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"SMS provider unreachable: {exc}") from exc


_SMS_BACKENDS = {
    "file": FileSmsBackend,
    "console": ConsoleSmsBackend,
    "locmem": LocmemSmsBackend,
    "http": HttpSmsBackend,
}


def sms_backend():
    cls = _SMS_BACKENDS.get(SMS_BACKEND)
    if cls is None:
        cls = import_string(SMS_BACKEND)
    return cls()


def _email(*, to: str, subject: str, body: str, reference: str, connection) -> EmailMessage:
    # A stable Message-ID per outbox row: a resend after a crash carries the same id,
    # so a mail system that de-duplicates by Message-ID drops the copy.
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": f"<{reference}@stepwise.notifications>"},
        connection=connection,
    )


# Printable ASCII only (no CR or LF): such a header needs no encoding and cannot inject.
_PLAIN_HEADER = re.compile(r"[\x20-\x7e]*\Z")
_PLAIN_ADDRESS = re.compile(r"[^\s<>()@,;:\\\"\[\]]+@[^\s<>()@,;:\\\"\[\]]+\Z")


def plain_email_bytes(*, from_header: str, to: str, subject: str, body: str, reference: str):
    """The message Django's ``EmailMessage`` would send, for the common case of ASCII
    headers and body; None when anything needs MIME encoding (Django then builds it).

    Building each message through the email package (header folding, address parsing)
    was most of a batch's CPU time, profiled; reminder texts are short plain ASCII.
    """
    if not (
        _PLAIN_HEADER.match(subject)
        and _PLAIN_HEADER.match(from_header)
        and _PLAIN_ADDRESS.match(to)
        and body.isascii()
        and len(subject) < 900
    ):
        return None
    lines = body.splitlines()
    if any(len(line) > 998 for line in lines):
        return None
    head = (
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "MIME-Version: 1.0\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        f"Subject: {subject}\r\n"
        f"From: {from_header}\r\n"
        f"To: {to}\r\n"
        f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n"
        f"Message-ID: <{reference}@stepwise.notifications>\r\n"
        "\r\n"
    )
    return (head + "\r\n".join(lines) + "\r\n").encode("ascii")


class Outbound:
    """One batch's way out: a single SMTP connection (opened on the first email, kept
    for the batch) and one SMS backend. Use as a context manager."""

    def __init__(self):
        self._mail = None
        self._sms = None
        self._envelope_from = None

    def __enter__(self) -> Outbound:
        return self

    def __exit__(self, *exc) -> None:
        self.reset()

    def reset(self) -> None:
        """Drop the SMTP connection (after an error its state is unknown)."""
        if self._mail is not None:
            try:
                self._mail.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to QUIT
                logger.debug("SMTP connection did not close cleanly", exc_info=True)
            self._mail = None

    def email(self, *, to: str, subject: str, body: str, reference: str) -> None:
        if self._mail is None:
            self._mail = get_connection(timeout=SEND_TIMEOUT_SECONDS)
            self._mail.open()
        smtp = getattr(self._mail, "connection", None)
        if isinstance(self._mail, SmtpBackend) and smtp is not None:
            raw = plain_email_bytes(
                from_header=settings.DEFAULT_FROM_EMAIL,
                to=to,
                subject=subject,
                body=body,
                reference=reference,
            )
            if raw is not None:
                # What Django's SMTP backend does with the bytes (smtplib dot-stuffs).
                if self._envelope_from is None:
                    self._envelope_from = sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")
                smtp.sendmail(self._envelope_from, [to], raw)
                return
        _email(to=to, subject=subject, body=body, reference=reference, connection=self._mail).send()

    def sms(self, *, to: str, body: str, reference: str) -> None:
        if self._sms is None:
            self._sms = sms_backend()
        self._sms.send(to, body, reference)
