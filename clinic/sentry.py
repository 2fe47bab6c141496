"""Optional error reporting to Sentry (``SENTRY_DSN``; the package is the ``sentry``
extra in pyproject.toml). Imported by the settings only when a DSN is set, so a
deployment without Sentry neither needs nor loads the package.

Pages and forms here hold patient data, so nothing personal leaves with an event: no
user, cookie or header data (``send_default_pii``), no local variables of the failing
frames, no request bodies, and no query strings (a caseload search carries a name)."""

from __future__ import annotations

from typing import Any


def scrub_event(event: Any, hint: Any) -> Any:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("query_string", "cookies", "data", "headers", "env"):
            request.pop(key, None)
    return event


def init_sentry(dsn: str, *, environment: str, release: str | None = None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        # Errors only: performance tracing would send every URL with its ids.
        traces_sample_rate=0.0,
    )
