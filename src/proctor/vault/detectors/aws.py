"""AWS credentials: access key ids (AKIA, ASIA, …) and secret access keys named as such."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule


class AWSKeyDetector(SecretDetector):
    id = "aws_key"
    description = "AWS access key ids and secret access keys."
    rules = (
        SecretRule(
            "aws.access_key_id",
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
            "an AWS access key id (AKIA/ASIA/ABIA/ACCA followed by 16 characters)",
            ("akia", "asia", "abia", "acca"),
            "",
        ),
        SecretRule(
            "aws.secret_access_key",
            r"aws_?secret_?(?:access_?)?key[\"'\s]*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
            "an AWS secret access key, named as such",
            ("secret",),
            group=1,
            ignore_case=True,
        ),
    )
