"""Stripe secret and restricted keys (sk_live_, rk_live_, and test keys) and webhook secrets."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule


class StripeKeyDetector(SecretDetector):
    id = "stripe_key"
    description = "Stripe secret and restricted API keys, live and test, and webhook secrets."
    rules = (
        *(
            SecretRule(
                f"stripe.{prefix.strip('_')}",
                rf"\b{prefix}[A-Za-z0-9]{{20,247}}\b",
                f"a Stripe {'restricted' if prefix[0] == 'r' else 'secret'} key "
                f"({'live' if 'live' in prefix else 'test'} mode)",
                (prefix,),
                prefix,
            )
            for prefix in ("sk_live_", "rk_live_", "sk_test_", "rk_test_")
        ),
        SecretRule(
            "stripe.webhook_secret",
            r"\bwhsec_[A-Za-z0-9]{24,}\b",
            "a Stripe webhook signing secret (whsec_)",
            ("whsec_",),
            "whsec_",
        ),
    )
