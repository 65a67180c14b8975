"""Payment card numbers (Presidio's pattern; the Luhn checksum must hold)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proctor.vault._classes import DataClass
from proctor.vault._pii import PresidioDetector
from proctor.vault._validators import luhn_valid

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


class CreditCardDetector(PresidioDetector):
    id = "credit_card"
    kind = "card"
    data_class = DataClass.FINANCIAL
    entity = "CREDIT_CARD"
    description = "A payment card number."
    trigger = re.compile(r"\d{4}[ -]?\d{4}")
    validator = staticmethod(luhn_valid)
    validator_name = "Luhn checksum"

    def recognizer(self) -> EntityRecognizer:
        from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

        return CreditCardRecognizer(name="proctor.credit_card")
