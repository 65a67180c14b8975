"""The built-in value detectors, one per module: PII (Presidio-backed) and secrets.

``PII`` and ``SECRETS`` list them in the order they run; ``proctor.vault.TextScanner`` takes
any subset. No discovery by scanning packages: a detector is listed here or does not run.
"""

from __future__ import annotations

from proctor.vault.detectors.anthropic import AnthropicKeyDetector
from proctor.vault.detectors.aws import AWSKeyDetector
from proctor.vault.detectors.credential_assignment import CredentialAssignmentDetector
from proctor.vault.detectors.credit_card import CreditCardDetector
from proctor.vault.detectors.detect_secrets_plugins import DetectSecretsDetector
from proctor.vault.detectors.email import EmailDetector
from proctor.vault.detectors.gcp import GCPKeyDetector
from proctor.vault.detectors.github import GitHubTokenDetector
from proctor.vault.detectors.iban import IbanDetector
from proctor.vault.detectors.ip_address import IpAddressDetector
from proctor.vault.detectors.jwt import JWTDetector
from proctor.vault.detectors.openai import OpenAIKeyDetector
from proctor.vault.detectors.phone import PhoneDetector
from proctor.vault.detectors.private_key import PrivateKeyDetector
from proctor.vault.detectors.slack import SlackTokenDetector
from proctor.vault.detectors.stripe import StripeKeyDetector
from proctor.vault.detectors.us_ssn import UsSsnDetector

PII = (
    EmailDetector,
    PhoneDetector,
    CreditCardDetector,
    IbanDetector,
    UsSsnDetector,
    IpAddressDetector,
)
SECRETS = (
    PrivateKeyDetector,
    OpenAIKeyDetector,
    AnthropicKeyDetector,
    GitHubTokenDetector,
    AWSKeyDetector,
    SlackTokenDetector,
    StripeKeyDetector,
    GCPKeyDetector,
    JWTDetector,
    CredentialAssignmentDetector,
    DetectSecretsDetector,
)

__all__ = [
    "PII",
    "SECRETS",
    "AWSKeyDetector",
    "AnthropicKeyDetector",
    "CredentialAssignmentDetector",
    "CreditCardDetector",
    "DetectSecretsDetector",
    "EmailDetector",
    "GCPKeyDetector",
    "GitHubTokenDetector",
    "IbanDetector",
    "IpAddressDetector",
    "JWTDetector",
    "OpenAIKeyDetector",
    "PhoneDetector",
    "PrivateKeyDetector",
    "SlackTokenDetector",
    "StripeKeyDetector",
    "UsSsnDetector",
]
