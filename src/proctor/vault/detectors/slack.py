"""Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-), app tokens (xapp-) and incoming
webhook URLs."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule


class SlackTokenDetector(SecretDetector):
    id = "slack_token"
    description = "Slack bot, user, app and refresh tokens and incoming webhooks."
    rules = (
        SecretRule(
            "slack.token",
            r"\bxox[abposre]-[A-Za-z0-9-]{10,}",
            "a Slack token (xox*-)",
            ("xox",),
            "xox",
        ),
        SecretRule(
            "slack.app_token",
            r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,}",
            "a Slack app-level token (xapp-)",
            ("xapp-",),
            "xapp-",
        ),
        SecretRule(
            "slack.webhook",
            r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]{16,}",
            "a Slack incoming webhook URL (anyone holding it can post)",
            ("hooks.slack.com",),
            "https://hooks.slack.com/",
        ),
    )
