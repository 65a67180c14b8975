"""Email addresses (Presidio's pattern; the domain must end in a public suffix)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proctor.vault._classes import DataClass
from proctor.vault._pii import PresidioDetector, offline_tld_extractor

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


class EmailDetector(PresidioDetector):
    id = "email"
    kind = "email"
    data_class = DataClass.CUSTOMER
    entity = "EMAIL_ADDRESS"
    description = "An email address."
    trigger = re.compile("@")

    def recognizer(self) -> EntityRecognizer:
        from presidio_analyzer.predefined_recognizers import EmailRecognizer

        extract = offline_tld_extractor()

        class OfflineEmailRecognizer(EmailRecognizer):
            """Presidio's email recognizer, validating domains without the network."""

            def validate_result(self, pattern_text: str) -> bool:
                return bool(extract(pattern_text).fqdn)

        return OfflineEmailRecognizer(name="proctor.email")
