"""IP addresses, v4 and v6 (Presidio's patterns): personal data when they name a device."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from proctor.vault._classes import DataClass
from proctor.vault._pii import PresidioDetector

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


class IpAddressDetector(PresidioDetector):
    id = "ip_address"
    kind = "ip"
    data_class = DataClass.CUSTOMER
    entity = "IP_ADDRESS"
    description = "An IP address."
    trigger = re.compile(r"\d\.\d{1,3}\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:")

    def recognizer(self) -> EntityRecognizer:
        from presidio_analyzer.predefined_recognizers import IpRecognizer

        return IpRecognizer(name="proctor.ip_address")
