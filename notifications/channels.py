"""Delivery channels: email through Django's mail API, SMS through a pluggable backend.
A send either returns (the provider accepted the message) or raises.

SMS goes through the backend named by ``settings.STEPWISE_SMS_BACKEND``:
- ``file`` (default): one JSON line per text in ``STEPWISE_SMS_FILE`` (development);
- ``console``: the log;
- ``locmem``: kept in ``sms_outbox`` (tests);
- ``http``: a Twilio-compatible REST API: ``POST SMS_HTTP_URL`` with form fields
  ``To``, ``From``, ``Body`` and HTTP basic auth ``SMS_HTTP_USER``:``SMS_HTTP_TOKEN``
  (for Twilio: ``https://api.twilio.com/2010-04-01/Accounts/<SID>/Messages.json``);
- or a dotted path to a class with ``send(to, body, reference)``.

Settings are read when a message is sent, so an override (a test's, a deployment's)
applies without reloading this module.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# A send that hangs would hold a worker slot (and its claim) forever.
SEND_TIMEOUT_SECONDS = 20

sms_outbox: list[dict[str, str]] = []


class DeliveryError(Exception):
    """The provider refused or could not be reached: worth a retry."""


class SmsBackend(Protocol):
    def send(self, to: str, body: str, reference: str) -> None: ...


class FileSmsBackend:
    def send(self, to: str, body: str, reference: str) -> None:
        path = Path(settings.STEPWISE_SMS_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
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
        url, sender = settings.SMS_HTTP_URL, settings.SMS_FROM
        user, token = settings.SMS_HTTP_USER, settings.SMS_HTTP_TOKEN
        if not (url and sender):
            raise DeliveryError("SMS_HTTP_URL and SMS_FROM must be set for the http SMS backend")
        data = urllib.parse.urlencode({"To": to, "From": sender, "Body": body}).encode()
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if user:
            credentials = base64.b64encode(f"{user}:{token}".encode()).decode()
            request.add_header("Authorization", f"Basic {credentials}")
        request.add_header("Idempotency-Key", reference)
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"SMS provider answered HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS provider answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"SMS provider unreachable: {exc}") from exc


_SMS_BACKENDS: dict[str, type[SmsBackend]] = {
    "file": FileSmsBackend,
    "console": ConsoleSmsBackend,
    "locmem": LocmemSmsBackend,
    "http": HttpSmsBackend,
}


def sms_backend() -> SmsBackend:
    name = settings.STEPWISE_SMS_BACKEND
    cls: type[SmsBackend] = _SMS_BACKENDS.get(name) or import_string(name)
    return cls()


def base_url() -> str:
    """The portal's address in message links (messages carry no details, only a link)."""
    return str(settings.STEPWISE_BASE_URL).rstrip("/")


def email_message(
    *, to: str, subject: str, body: str, reference: str, connection: BaseEmailBackend | None
) -> EmailMessage:
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


class Outbound:
    """One batch's way out: a single mail connection (opened on the first email, kept
    for the batch) and one SMS backend. Use as a context manager."""

    def __init__(self) -> None:
        self._mail: BaseEmailBackend | None = None
        self._sms: SmsBackend | None = None

    def __enter__(self) -> Outbound:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.reset()

    def reset(self) -> None:
        """Drop the mail connection (after an error its state is unknown)."""
        if self._mail is not None:
            try:
                self._mail.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to QUIT
                logger.debug("mail connection did not close cleanly", exc_info=True)
            self._mail = None

    def email(self, *, to: str, subject: str, body: str, reference: str) -> None:
        if self._mail is None:
            self._mail = get_connection(timeout=SEND_TIMEOUT_SECONDS)
            self._mail.open()
        message = email_message(
            to=to, subject=subject, body=body, reference=reference, connection=self._mail
        )
        # One message per call: each is marked sent as soon as it was accepted.
        self._mail.send_messages([message])

    def sms(self, *, to: str, body: str, reference: str) -> None:
        if self._sms is None:
            self._sms = sms_backend()
        self._sms.send(to, body, reference)
