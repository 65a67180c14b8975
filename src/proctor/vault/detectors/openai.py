"""OpenAI API keys: project, service-account and admin keys, and the legacy format."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule


class OpenAIKeyDetector(SecretDetector):
    id = "openai_key"
    description = "OpenAI API keys (sk-proj-, sk-svcacct-, sk-admin-, legacy sk-…T3BlbkFJ…)."
    rules = (
        SecretRule(
            "openai.project",
            r"\bsk-proj-[A-Za-z0-9_-]{40,}",
            "an OpenAI project API key (sk-proj-)",
            ("sk-proj-",),
            "sk-proj-",
        ),
        SecretRule(
            "openai.service_account",
            r"\bsk-svcacct-[A-Za-z0-9_-]{40,}",
            "an OpenAI service-account API key (sk-svcacct-)",
            ("sk-svcacct-",),
            "sk-svcacct-",
        ),
        SecretRule(
            "openai.admin",
            r"\bsk-admin-[A-Za-z0-9_-]{40,}",
            "an OpenAI admin API key (sk-admin-)",
            ("sk-admin-",),
            "sk-admin-",
        ),
        SecretRule(
            "openai.legacy",
            r"\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b",
            "an OpenAI API key in the legacy format (its middle spells 'openai' in base64)",
            ("t3blbkfj",),
            "sk-",
        ),
    )
