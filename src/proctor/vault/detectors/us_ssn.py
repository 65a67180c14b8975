"""US social security numbers (Presidio's patterns and its invalid-number checks)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proctor.vault._classes import DataClass
from proctor.vault._pii import PresidioDetector

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


class UsSsnDetector(PresidioDetector):
    id = "us_ssn"
    kind = "ssn"
    data_class = DataClass.REGULATED
    entity = "US_SSN"
    description = "A US social security number."
    trigger = re.compile(r"\d{3}[- .]\d{2}[- .]\d{4}")

    def recognizer(self) -> EntityRecognizer:
        from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

        return UsSsnRecognizer(name="proctor.us_ssn")
