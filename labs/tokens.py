"""Bearer tokens of the laboratories' interfaces: only their hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    # Compared whatever the input, in constant time: a missing interface costs the same.
    expected = stored_hash or "0" * 64
    return hmac.compare_digest(token_hash(token), expected) and bool(stored_hash)
