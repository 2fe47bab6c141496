"""What became of one row in a send batch.

An outcome is a member of ``Outcome``; it carries the status the row is left in and the
reason written to ``last_error``, so nothing has to parse a string back into a status.
It is a ``StrEnum`` so that a task's summary (``Counter`` of outcomes) stays plain JSON.
"""

from __future__ import annotations

from enum import StrEnum

from .models import Channel, Status


class Outcome(StrEnum):
    SENT = "sent"
    # Back in the queue: a provider error (attempts left), or never tried.
    RETRY = "retry"
    FAILED = "failed"
    FAILED_PRIVACY = "failed: privacy"
    # Held by another claim, already finished, or not due: left as it was.
    NOT_CLAIMED = "not-claimed"
    CANCELLED = "cancelled: no longer applies"
    SKIPPED_SWITCHED_OFF = "skipped: switched off by the recipient"
    SKIPPED_NO_SMS_CONSENT = "skipped: no SMS consent or opted out"
    SKIPPED_NO_EMAIL_ADDRESS = "skipped: no email address"
    SKIPPED_NO_PHONE = "skipped: no text message address"
    # A number on file that a text cannot reach (not a valid number, or a landline).
    SKIPPED_INVALID_PHONE = "skipped: not a number texts can reach"
    SKIPPED_QUIET_HOURS = "skipped: quiet hours"
    DEFERRED_QUIET_HOURS = "deferred: quiet hours"

    @property
    def status(self) -> Status:
        """The status a row that ends with this outcome is left in."""
        if self is Outcome.NOT_CLAIMED:
            raise ValueError("a row not claimed is left as it was")
        return _STATUS[self]

    @property
    def reason(self) -> str:
        """What ``last_error`` records for a row finished with this outcome."""
        return _REASON.get(self, "")

    @classmethod
    def no_address(cls, channel: str) -> Outcome:
        return cls.SKIPPED_NO_PHONE if channel == Channel.SMS else cls.SKIPPED_NO_EMAIL_ADDRESS


_STATUS: dict[Outcome, Status] = {
    Outcome.SENT: Status.SENT,
    Outcome.RETRY: Status.PENDING,
    Outcome.FAILED: Status.FAILED,
    Outcome.FAILED_PRIVACY: Status.FAILED,
    Outcome.CANCELLED: Status.CANCELLED,
    Outcome.SKIPPED_SWITCHED_OFF: Status.SKIPPED,
    Outcome.SKIPPED_NO_SMS_CONSENT: Status.SKIPPED,
    Outcome.SKIPPED_NO_EMAIL_ADDRESS: Status.SKIPPED,
    Outcome.SKIPPED_NO_PHONE: Status.SKIPPED,
    Outcome.SKIPPED_INVALID_PHONE: Status.SKIPPED,
    Outcome.SKIPPED_QUIET_HOURS: Status.SKIPPED,
    Outcome.DEFERRED_QUIET_HOURS: Status.PENDING,
}
# The rows finished in one statement per outcome record why (the row's own error
# message is written where it is known, for retries and failures).
_REASON: dict[Outcome, str] = {
    Outcome.CANCELLED: "no longer applies",
    Outcome.SKIPPED_SWITCHED_OFF: "switched off by the recipient",
    Outcome.SKIPPED_NO_SMS_CONSENT: "no SMS consent or opted out",
    Outcome.SKIPPED_NO_EMAIL_ADDRESS: "no email address",
    Outcome.SKIPPED_NO_PHONE: "no text message address",
    Outcome.SKIPPED_INVALID_PHONE: "not a number texts can reach",
    Outcome.SKIPPED_QUIET_HOURS: "quiet hours",
}
