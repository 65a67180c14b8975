"""The built-in detectors, one per module. The registry lists them by name; nothing scans here."""
