"""Google Cloud credentials: API keys, OAuth access tokens and client secrets, and service
account key ids."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule


class GCPKeyDetector(SecretDetector):
    id = "gcp_key"
    description = "Google Cloud API keys, OAuth tokens and client secrets, service-account keys."
    rules = (
        SecretRule(
            "gcp.api_key",
            r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
            "a Google API key (AIza…)",
            ("aiza",),
            "AIza",
        ),
        SecretRule(
            "gcp.oauth_token",
            r"\bya29\.[0-9A-Za-z_-]{20,}",
            "a Google OAuth access token (ya29.)",
            ("ya29.",),
            "ya29.",
        ),
        SecretRule(
            "gcp.client_secret",
            r"\bGOCSPX-[0-9A-Za-z_-]{28}(?![0-9A-Za-z_-])",
            "a Google OAuth client secret (GOCSPX-)",
            ("gocspx-",),
            "GOCSPX-",
        ),
        SecretRule(
            "gcp.service_account_key_id",
            r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\"",
            "the key id of a Google service-account key file",
            ("private_key_id",),
            group=1,
        ),
    )
