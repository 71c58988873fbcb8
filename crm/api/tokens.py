"""Token text: "crm_<prefix>_<secret>". The prefix finds the row; only sha256(secret) is
stored, so a copy of the database gives no usable token."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_START = "crm_"


def generate() -> tuple[str, str, str]:
    """(prefix, secret, full token). 8 random bytes of prefix make clashes negligible; the
    32-byte secret is what an attacker would have to guess."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return prefix, secret, f"{TOKEN_START}{prefix}_{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(full: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    if not full.startswith(TOKEN_START):
        return None
    prefix, sep, secret = full[len(TOKEN_START) :].partition("_")
    if not sep or not prefix or not secret:
        return None
    return prefix, secret


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
