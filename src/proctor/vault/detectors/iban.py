"""International bank account numbers (Presidio's pattern; ISO 7064 mod 97-10 must hold)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proctor.vault._classes import DataClass
from proctor.vault._pii import PresidioDetector
from proctor.vault._validators import iban_valid

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


class IbanDetector(PresidioDetector):
    id = "iban"
    kind = "iban"
    data_class = DataClass.FINANCIAL
    entity = "IBAN_CODE"
    description = "An IBAN."
    trigger = re.compile(r"[A-Z]{2}\d{2}[ -]?[A-Z0-9]{4}")
    validator = staticmethod(iban_valid)
    validator_name = "IBAN mod-97 check"

    def recognizer(self) -> EntityRecognizer:
        from presidio_analyzer.predefined_recognizers import IbanRecognizer

        return IbanRecognizer(name="proctor.iban")
