"""Masking: a value's shape without the value. ``j***@example.com``, ``**** **** **** 4242``.

A mask keeps only what a reader needs to tell values apart in a conversation (an email's domain,
a card's last four digits) and never reveals the length of what it hides.
"""

from __future__ import annotations

import ipaddress
import re

from proctor.vault._validators import digits_of, iban_valid, luhn_valid

STARS = "***"
_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+\.[^@\s]+)$")
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,24}$")
_KIND_CHARS = re.compile(r"[^a-z0-9]")


def mask_email(value: str) -> str:
    m = _EMAIL.match(value.strip())
    if not m:
        return mask_generic(value)
    return f"{m.group(1)[0]}{STARS}@{m.group(2)}"


def mask_card(value: str) -> str:
    return f"**** **** **** {digits_of(value)[-4:]}"


def mask_iban(value: str) -> str:
    compact = "".join(c for c in value if not c.isspace() and c != "-")
    return f"{compact[:2].upper()}** **** {compact[-4:]}"


def mask_phone(value: str) -> str:
    return f"***-***-{digits_of(value)[-4:]}"


def mask_ssn(value: str) -> str:
    return f"***-**-{digits_of(value)[-4:]}"


def mask_ip(value: str) -> str:
    try:
        ip = ipaddress.ip_address(value.strip().split("/")[0])
    except ValueError:
        return mask_generic(value)
    if ip.version == 4:
        return f"{str(ip).split('.')[0]}.*.*.*"
    return f"{ip.exploded.split(':')[0]}:****"


def mask_secret(value: str, keep_prefix: str = "") -> str:
    """A secret keeps at most its public prefix (``sk-proj-``, ``ghp_``): its type, no key."""
    prefix = keep_prefix if keep_prefix and value.startswith(keep_prefix) else ""
    return f"{prefix}****" if prefix else "[secret]****"


def mask_generic(value: str) -> str:
    """Digits keep their last four when there are at least eight; words keep their first
    letter: ``Jane Doe`` -> ``J*** D***``."""
    text = value.strip()
    digits = digits_of(text)
    if len(digits) >= 8 and len(digits) * 2 >= len(text):
        return f"****{digits[-4:]}"
    words = text.split()
    if not words or len(digits) == len(text):
        return "****"
    shown = [f"{w[0]}{STARS}" for w in words[:6]]
    return " ".join(shown) + (" …" if len(words) > 6 else "")


_MASKERS = {
    "email": mask_email,
    "card": mask_card,
    "iban": mask_iban,
    "phone": mask_phone,
    "ssn": mask_ssn,
    "ip": mask_ip,
}


def mask(kind: str, value: str, *, keep_prefix: str = "", secret: bool = False) -> str:
    """The masked form of ``value`` of ``kind`` (``email``, ``card``, ``iban``, ``phone``,
    ``ssn``, ``ip``; anything else is masked generically). Secrets keep only their prefix."""
    if secret:
        return mask_secret(value, keep_prefix)
    masker = _MASKERS.get(kind)
    return masker(value) if masker is not None else mask_generic(value)


def infer_kind(value: str) -> str | None:
    """The kind of a structured field's value, when its shape says: email, card, iban, ssn,
    ip, phone. None: no recognizable shape."""
    text = value.strip()
    if _EMAIL.match(text):
        return "email"
    if _SSN.match(text):
        return "ssn"
    if luhn_valid(text) and len(digits_of(text)) * 2 > len(text):
        return "card"
    if iban_valid(text):
        return "iban"
    try:
        ipaddress.ip_address(text)
        return "ip"
    except ValueError:
        pass
    if _PHONE.match(text) and 8 <= len(digits_of(text)) <= 15:
        return "phone"
    return None


def kind_name(text: str) -> str:
    """A token kind from a field name: lower case letters and digits, at most 16."""
    name = _KIND_CHARS.sub("", text.lower())[:16]
    return name if name and name[0].isalpha() else "value"
