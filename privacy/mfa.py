"""The pieces of two-step verification that are not writes: the enrolment QR code and
the form of backup codes (how they are made, typed and stored)."""

from __future__ import annotations

import re
import secrets

import segno
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BACKUP_CODE_COUNT = 10
# No 0/o, 1/l/i: a code copied from paper must not be misread. 31 symbols, 10 of them:
# about 49 bits per code.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10
_HMAC_SALT = "stepwise.privacy.backup_code"
_TYPED_NOISE = re.compile(r"[\s-]+")


def qr_svg(data: str, *, label: str) -> SafeString:
    """``data`` as an inline SVG QR code, with ``label`` as its accessible name.

    Drawn on the server: the page loads no script or image from anywhere for it, and the
    strict CSP stays as it is (segno writes attributes, no inline style).
    """
    svg = segno.make(data, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", svgclass="mfa-qr", omitsize=False
    )
    # segno writes a bare <svg ...>; the role and name make it one image to a screen
    # reader (the path inside would otherwise be announced as nothing, or as a graphic).
    accessible = f'<svg role="img" aria-label="{escape(label)}"'
    return mark_safe(svg.replace("<svg", accessible, 1))  # noqa: S308 - segno's own markup


def backup_code_new() -> str:
    """A fresh code as shown to the user: ``abcde-fghjk``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def backup_code_normalise(typed: str) -> str:
    """What the user typed, without the spaces, hyphens and capitals a copy may add."""
    return _TYPED_NOISE.sub("", typed).lower()


def backup_code_looks_valid(normalised: str) -> bool:
    return len(normalised) == _CODE_LENGTH and all(c in _ALPHABET for c in normalised)


def backup_code_digest(normalised: str) -> str:
    """What is stored for a code: django-otp keeps static tokens in clear (16 characters),
    so a copy of the database would be ten logins per user. A keyed hash (SECRET_KEY)
    truncated to that field's 16 hex characters (64 bits) keeps the lookup exact and
    useless to a reader of the table alone. Rotating SECRET_KEY voids every code: staff
    then log in with their app and make new ones (or a director resets them)."""
    return salted_hmac(_HMAC_SALT, normalised, algorithm="sha256").hexdigest()[:16]
