"""A password, secret, API key or token written out as an assignment: ``password: hunter22``."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule

_NAMES = (
    r"password|passwd|passphrase|pwd|secret|client[_-]?secret|api[_-]?key|apikey"
    r"|access[_-]?token|auth[_-]?token|bearer|private[_-]?key"
)


class CredentialAssignmentDetector(SecretDetector):
    id = "credential_assignment"
    description = "Values assigned to names such as password, secret, api_key or token."
    rules = (
        SecretRule(
            "assignment.named",
            rf"\b(?:{_NAMES})\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;<>]{{6,}})",
            "a value assigned to a credential's name (password, secret, api key, token)",
            ("pass", "pwd", "secret", "key", "token", "bearer"),
            group=1,
            score=0.7,
            ignore_case=True,
        ),
        SecretRule(
            "assignment.bearer_header",
            r"\bAuthorization\s*:\s*(?:Bearer|Basic|Token)\s+([A-Za-z0-9._~+/=-]{12,})",
            "an HTTP Authorization header's credential",
            ("authorization",),
            group=1,
            ignore_case=True,
        ),
    )
