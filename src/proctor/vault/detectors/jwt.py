"""JSON Web Tokens: three base64url parts whose header decodes to JSON naming an algorithm."""

from __future__ import annotations

import base64
import binascii
import json

from proctor.vault._detector import SecretDetector, SecretRule


def _header_names_an_algorithm(token: str) -> bool:
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


class JWTDetector(SecretDetector):
    id = "jwt"
    description = "JSON Web Tokens (bearer credentials: whoever holds one is its subject)."
    validator = staticmethod(_header_names_an_algorithm)
    validator_name = "header decodes to JSON with an 'alg'"
    rules = (
        SecretRule(
            "jwt.token",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            "a JSON Web Token whose header names a signing algorithm",
            ("eyj",),
            "eyJ",
        ),
    )
