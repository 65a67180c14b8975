"""Anthropic API keys (sk-ant-api03-…, sk-ant-admin01-…)."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule


class AnthropicKeyDetector(SecretDetector):
    id = "anthropic_key"
    description = "Anthropic API and admin keys (sk-ant-)."
    rules = (
        SecretRule(
            "anthropic.key",
            r"\bsk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_-]{32,}",
            "an Anthropic API key (sk-ant-<type><version>-)",
            ("sk-ant-",),
            "sk-ant-",
        ),
    )
