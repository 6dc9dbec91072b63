"""Session tokens shaped like the Gateway's JWTs: ``header.payload.sig`` with ``exp``.

The SDK reads only ``exp`` from the payload. The simulator signs tokens with a
per-process secret (HMAC-SHA256) so a forged or edited token is refused, and
``expire_all`` invalidates every token issued so far.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

__all__ = ["TokenIssuer", "TokenProblem"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenProblem:
    """Why a token was refused."""

    reason: str


class TokenIssuer:
    def __init__(self, ttl: float = 24 * 3600.0) -> None:
        self.ttl = ttl
        self._secret = secrets.token_bytes(32)
        self._generation = 0
        self.issued = 0

    def issue(self, user: str) -> str:
        now = time.time()
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {
            "sub": user,
            "iat": int(now),
            "exp": int(now + self.ttl),
            "gen": self._generation,
            "jti": secrets.token_hex(8),
        }
        signing_input = (
            f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
        )
        signature = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        self.issued += 1
        return f"{signing_input}.{_b64(signature)}"

    def check(self, token: str | None) -> TokenProblem | None:
        """None when the token is good."""
        if not token:
            return TokenProblem("missing token")
        parts = token.split(".")
        if len(parts) != 3:
            return TokenProblem("malformed token")
        expected = hmac.new(
            self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256
        ).digest()
        try:
            signature = _unb64(parts[2])
            payload = json.loads(_unb64(parts[1]))
        except (ValueError, UnicodeDecodeError):
            return TokenProblem("malformed token")
        if not hmac.compare_digest(signature, expected) or not isinstance(payload, dict):
            return TokenProblem("invalid signature")
        if payload.get("gen") != self._generation:
            return TokenProblem("token expired (expired by the simulator)")
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            return TokenProblem("token expired")
        return None

    def expire_all(self) -> None:
        """Every token issued so far becomes invalid (as if expired)."""
        self._generation += 1
