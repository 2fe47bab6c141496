"""Celery tasks: they take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="privacy.tasks.send_password_reset", ignore_result=True)
def send_password_reset(user_ids: list[int]) -> int:
    return sum(services.password_reset_send(user_id=pk) for pk in user_ids)


def queue_password_reset(user_ids: list[int]) -> None:
    """Queue the reset email, for every request alike (an empty list included): the
    request then does the same work whether or not the address has an account, and
    the SMTP exchange, the one slow step, happens in the worker."""
    try:
        send_password_reset.delay(user_ids)
    except Exception:
        # The request has been answered like every other; a broker outage must not turn
        # it into an error page, nor tell the visitor anything. The person asks again.
        logger.exception("privacy: could not queue a password reset email")
