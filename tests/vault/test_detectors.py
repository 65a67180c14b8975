"""Secret and PII detectors: true positives per detector, benign inputs that must not be
flagged, explanations, and PII detection with the network switched off.

Credentials are assembled at run time from fragments, so that no scanner flags this file."""

from __future__ import annotations

import socket

import pytest

from proctor.vault import TextScanner, iban_valid, luhn_valid
from proctor.vault.detectors import PII, SECRETS

from ._policy import card


def j(*parts: str) -> str:
    return "".join(parts)


ALNUM = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zC"  # 32 characters of noise
SECRET_CASES = [
    ("openai_key", j("sk-", "proj-", ALNUM, ALNUM[:16]), "sk-proj-"),
    ("openai_key", j("sk-", "svcacct-", ALNUM, ALNUM[:12]), "sk-svcacct-"),
    ("openai_key", j("sk-", ALNUM[:20], "T3Blbk", "FJ", ALNUM[:20]), "sk-"),
    ("anthropic_key", j("sk-", "ant-", "api03-", ALNUM, ALNUM, ALNUM[:20]), "sk-ant-"),
    ("github_token", j("gh", "p_", ALNUM, ALNUM[:4]), "ghp_"),
    ("github_token", j("github", "_pat_", ALNUM[:22], "_", ALNUM, ALNUM[:27]), "github_pat_"),
    ("aws_key", j("AK", "IA", "QYLPMN5HZKRT2WXA"), ""),
    (
        "aws_key",
        j("aws_secret", "_access_key = ", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY"),
        "",
    ),
    ("slack_token", j("xo", "xb-", "2481736450-", ALNUM[:24]), "xox"),
    ("stripe_key", j("sk", "_live_", ALNUM[:26]), "sk_live_"),
    ("stripe_key", j("rk", "_live_", ALNUM[:26]), "rk_live_"),
    ("gcp_key", j("AI", "za", "SyD", ALNUM), "AIza"),
    ("gcp_key", j("GOC", "SPX-", ALNUM[:28]), "GOCSPX-"),
    (
        "jwt",
        j(
            "eyJhbGciOiJIUzI1NiJ9",
            ".",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
            ".",
            "dozjgNryP4J3jVmNHl0w5N",
        ),
        "eyJ",
    ),
    (
        "private_key",
        j(
            "-----BEGIN ",
            "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA",
            ALNUM,
            "\n-----END RSA ",
            "PRIVATE KEY-----",
        ),
        "-----BEGIN ",
    ),
    (
        "private_key",
        j("-----BEGIN ", "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", ALNUM),
        "-----BEGIN ",
    ),
    ("credential_assignment", j("pass", "word: ", "Tr0ub4dor&3x"), ""),
    ("credential_assignment", j("Authorization: Bearer ", ALNUM), ""),
]


@pytest.fixture(scope="module")
def scanner() -> TextScanner:
    return TextScanner.default(pii=True)


@pytest.mark.parametrize(("detector", "secret", "prefix"), SECRET_CASES, ids=lambda x: str(x)[:20])
def test_secrets_are_found_masked_and_explained(scanner, detector, secret, prefix):
    text = f"the tool said: {secret} (end)"
    found = scanner.scan(text)
    assert found, text
    covering = [m for m in found if m.start <= text.index(secret[-8:]) < m.end]
    (m,) = covering
    assert m.detector == detector
    assert m.secret
    value = text[m.start : m.end]
    masked = m.masked(value)
    assert value not in masked
    assert masked.startswith(prefix or "[secret]")
    assert m.explanation
    assert m.finding(text).excerpt == masked


def test_detect_secrets_plugins_find_what_ours_do_not(scanner):
    twilio = j("SK", "0123456789abcdef0123456789abcdef")
    (m,) = scanner.scan(f"twilio key {twilio}")
    assert m.detector == "detect_secrets"
    assert "TwilioKeyDetector" in m.rule


BENIGN = [
    "The meeting is at 10:30 in room 4B; bring the quarterly numbers.",
    "Order O-1001 was refunded 40.00 EUR on 2024-05-01.",
    "Use the sk- prefix convention for skeleton names like sk-main.",
    "The password policy requires twelve characters.",
    "Call the API with your key (see docs) and check the token count.",
    "git commit -m 'fix ghp handling'",
    "version 1.2.3 of the build, sha 3f9a2c1",
    "-----BEGIN PUBLIC KEY----- is not secret",
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_is_not_flagged(scanner, text):
    assert scanner.scan(text) == []


PII_CASES = [
    ("email", "write to jane.doe@example.co.uk please", "jane.doe@example.co.uk"),
    ("phone", "call +44 20 7946 0958 after 5", "+44 20 7946 0958"),
    ("phone", "or (415) 555-0132 at the office", "(415) 555-0132"),
    ("credit_card", f"card {card(7)} expires", card(7)),
    ("iban", "pay to DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00"),
    ("us_ssn", "ssn 536-22-4242 on file", "536-22-4242"),
    ("ip_address", "login from 203.0.113.42 failed", "203.0.113.42"),
]


@pytest.mark.parametrize(("detector", "text", "value"), PII_CASES, ids=[c[0] for c in PII_CASES])
def test_pii_is_found_and_explained(scanner, detector, text, value):
    found = [m for m in scanner.scan(text) if m.detector == detector]
    assert [text[m.start : m.end] for m in found] == [value]
    assert "Detected by" in found[0].explanation


PII_BENIGN = [
    ("credit_card", "tracking 4000 0000 0000 0003 is not a card (Luhn fails)"),
    ("iban", "reference DE89 3704 0044 0532 0130 01 (checksum fails)"),
    ("email", "the handle @example is not an address"),
    ("email", "user@localhost has no public suffix"),
    ("us_ssn", "order 123456789 and zip 94107"),
    ("phone", "version 3.14.159 and 2024-05-01"),
]


@pytest.mark.parametrize(("detector", "text"), PII_BENIGN, ids=[c[0] for c in PII_BENIGN])
def test_near_misses_are_not_pii(scanner, detector, text):
    assert [m for m in scanner.scan(text) if m.detector == detector] == []


def test_pii_detection_never_touches_the_network(monkeypatch):
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from proctor.vault._pii import offline_tld_extractor

    offline_tld_extractor.cache_clear()  # build the extractor and the analyzer here, offline
    scanner = TextScanner.default(pii=True)
    found = scanner.scan("mail ann@example.museum or bob@sub.example.co.uk")
    assert [m.kind for m in found] == ["email", "email"]
    assert attempts == []


def test_every_builtin_detector_declares_itself():
    for det in (*PII, *SECRETS):
        assert det.id
        assert det.description
        assert det.kind
        assert det.data_class
        assert det.__module__.startswith("proctor.vault.detectors.")
    assert len({d.id for d in (*PII, *SECRETS)}) == len(PII) + len(SECRETS)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4242 4242 4242 4242", True), ("4242 4242 4242 4241", False), ("1234", False)],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82 WEST 1234 5698 7654 32", True),
        ("GB82 WEST 1234 5698 7654 33", False),
        ("DE89370400440532013000", True),
        ("DE8937040044053201300", False),  # one digit short for Germany
        ("XX82WEST12345698765432", False),
    ],
)
def test_iban_mod_97(iban, valid):
    assert iban_valid(iban) is valid
