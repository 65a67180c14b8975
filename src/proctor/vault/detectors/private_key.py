"""Private key blocks (PEM, OpenSSH, PGP): the whole block, or all of a truncated one."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule

_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"


class PrivateKeyDetector(SecretDetector):
    id = "private_key"
    description = "Private key blocks: RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP."
    rules = (
        SecretRule(
            "private_key.block",
            rf"-----BEGIN {_LABEL}-----(?:[\s\S]*?-----END {_LABEL}-----|[A-Za-z0-9+/=\s:,.-]*)",
            "a private key block (masked whole, through its END line or the end of the key "
            "material)",
            ("private key",),
            "-----BEGIN ",
        ),
    )
