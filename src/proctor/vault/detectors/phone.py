"""Phone numbers: international (+CC …) and North American formats.

A regex recognizer of our own on Presidio's ``PatternRecognizer``: Presidio's phone recognizer
runs Google's libphonenumber matcher, about 15 ms per kilobyte, seven times our whole budget.
The number of digits must be that of a phone number (8 to 15, E.164).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proctor.vault._classes import DataClass
from proctor.vault._pii import PresidioDetector
from proctor.vault._validators import digits_of

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

INTERNATIONAL = r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}(?!\d)"
NORTH_AMERICAN = r"(?<![\w+])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)"


def _phone_digits(text: str) -> bool:
    return 8 <= len(digits_of(text)) <= 15


class PhoneDetector(PresidioDetector):
    id = "phone"
    kind = "phone"
    data_class = DataClass.CUSTOMER
    entity = "PHONE_NUMBER"
    description = "A phone number."
    trigger = re.compile(r"\+\d|\d{3}[ .-]\d{3}")
    validator = staticmethod(_phone_digits)
    validator_name = "8 to 15 digits (E.164)"

    def recognizer(self) -> EntityRecognizer:
        from presidio_analyzer import Pattern, PatternRecognizer

        return PatternRecognizer(
            supported_entity=self.entity,
            name="proctor.phone",
            patterns=[
                Pattern("phone (international)", INTERNATIONAL, 0.5),
                Pattern("phone (north american)", NORTH_AMERICAN, 0.4),
            ],
        )
