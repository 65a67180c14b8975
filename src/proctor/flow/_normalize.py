"""Normalization: two spellings of one value compare equal.

``normalize`` undoes what an attacker (or an innocent formatter) can do to a value without
changing what it means to a human: percent-encoding, Unicode compatibility forms, invisible
characters, case, Latin look-alikes from Cyrillic and Greek, and runs of whitespace.
``compact`` also drops whitespace, so that a value split across lines still matches.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

# Cyrillic and Greek letters that render like Latin ones (after casefold, so lower case only).
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "\u0430": "a",  # cyrillic small letter a
        "\u0432": "b",  # cyrillic small letter ve
        "\u0435": "e",  # cyrillic small letter ie
        "\u0451": "e",  # cyrillic small letter io
        "\u04bb": "h",  # cyrillic small letter shha
        "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
        "\u0457": "i",  # cyrillic small letter yi
        "\u0458": "j",  # cyrillic small letter je
        "\u043a": "k",  # cyrillic small letter ka
        "\u04cf": "l",  # cyrillic small letter palochka
        "\u043c": "m",  # cyrillic small letter em
        "\u043d": "h",  # cyrillic small letter en
        "\u043e": "o",  # cyrillic small letter o
        "\u0440": "p",  # cyrillic small letter er
        "\u0441": "c",  # cyrillic small letter es
        "\u0442": "t",  # cyrillic small letter te
        "\u0443": "y",  # cyrillic small letter u
        "\u0445": "x",  # cyrillic small letter ha
        "\u0455": "s",  # cyrillic small letter dze
        "\u0501": "d",  # cyrillic small letter komi de
        "\u051b": "q",  # cyrillic small letter qa
        "\u051d": "w",  # cyrillic small letter we
        "\u044c": "b",  # cyrillic small letter soft sign
        # Greek
        "\u03b1": "a",  # greek small letter alpha
        "\u03b2": "b",  # greek small letter beta
        "\u03b3": "y",  # greek small letter gamma
        "\u03b5": "e",  # greek small letter epsilon
        "\u03b6": "z",  # greek small letter zeta
        "\u03b7": "n",  # greek small letter eta
        "\u03b9": "i",  # greek small letter iota
        "\u03ba": "k",  # greek small letter kappa
        "\u03bc": "u",  # greek small letter mu
        "\u03bd": "v",  # greek small letter nu
        "\u03bf": "o",  # greek small letter omicron
        "\u03c1": "p",  # greek small letter rho
        "\u03c3": "o",  # greek small letter sigma
        "\u03c2": "c",  # greek small letter final sigma
        "\u03c4": "t",  # greek small letter tau
        "\u03c5": "u",  # greek small letter upsilon
        "\u03c7": "x",  # greek small letter chi
        "\u03c9": "w",  # greek small letter omega
        # Latin look-alikes outside ASCII
        "\u0131": "i",  # latin small letter dotless i
        "\u0237": "j",  # latin small letter dotless j
        "\u2113": "l",  # script small l
    }
)
# Capital Greek and Cyrillic letters that render like Latin capitals: mapped before casefold,
# which would turn some of them into other look-alikes (capital mu into a u-like mu).
_UPPER_CONFUSABLES = str.maketrans(
    {
        "\u0391": "a",  # greek capital letter alpha
        "\u0392": "b",  # greek capital letter beta
        "\u0395": "e",  # greek capital letter epsilon
        "\u0396": "z",  # greek capital letter zeta
        "\u0397": "h",  # greek capital letter eta
        "\u0399": "i",  # greek capital letter iota
        "\u039a": "k",  # greek capital letter kappa
        "\u039c": "m",  # greek capital letter mu
        "\u039d": "n",  # greek capital letter nu
        "\u039f": "o",  # greek capital letter omicron
        "\u03a1": "p",  # greek capital letter rho
        "\u03a4": "t",  # greek capital letter tau
        "\u03a5": "y",  # greek capital letter upsilon
        "\u03a7": "x",  # greek capital letter chi
        "\u0410": "a",  # cyrillic capital letter a
        "\u0412": "b",  # cyrillic capital letter ve
        "\u0415": "e",  # cyrillic capital letter ie
        "\u041a": "k",  # cyrillic capital letter ka
        "\u041c": "m",  # cyrillic capital letter em
        "\u041d": "h",  # cyrillic capital letter en
        "\u041e": "o",  # cyrillic capital letter o
        "\u0420": "p",  # cyrillic capital letter er
        "\u0421": "c",  # cyrillic capital letter es
        "\u0422": "t",  # cyrillic capital letter te
        "\u0425": "x",  # cyrillic capital letter ha
        "\u0423": "y",  # cyrillic capital letter u
        "\u0405": "s",  # cyrillic capital letter dze
        "\u0406": "i",  # cyrillic capital letter byelorussian-ukrainian i
        "\u0408": "j",  # cyrillic capital letter je
    }
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_SCHEME = re.compile(r"^(?:https?://|mailto:)")


def url_decode(text: str, rounds: int = 3) -> str:
    """Undo percent-encoding, up to ``rounds`` times (double encoding is a classic evasion)."""
    for _ in range(rounds):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def normalize(text: str) -> str:
    """The canonical form values are compared in: decoded, NFKC, casefolded, confusables
    mapped to Latin, invisible characters removed, whitespace collapsed to one space."""
    text = unicodedata.normalize("NFKC", url_decode(text))
    text = text.translate(_INVISIBLE).translate(_UPPER_CONFUSABLES)
    text = text.casefold().translate(_CONFUSABLES)
    return " ".join(text.split())


def compact(text: str) -> str:
    """``normalize`` without any whitespace: a value split across lines is still one value."""
    # whitespace goes before decoding too: a line break inside "%40" must not hide the "@"
    return "".join(normalize("".join(text.split())).split())


def canonical_value(text: str) -> str:
    """An argument value as it is looked up: compact, without a URL scheme or trailing slash."""
    value = _SCHEME.sub("", compact(text))
    return value.rstrip("/") or value
