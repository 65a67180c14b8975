"""detect-secrets' regex plugins (Yelp/detect-secrets), run over the text for their spans.

Each plugin's ``denylist`` is matched as ``analyze_string`` does (a match's groups, when it has
them, are the secret). Plugins that verify against a remote API are never asked to: nothing
here touches the network. Left out: ``IPPublicDetector`` (an IP address is personal data, found
by the PII detectors) and ``JwtTokenDetector`` (``proctor.vault.detectors.jwt`` checks more).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from proctor.vault._detector import Match, SecretDetector
from proctor.vault._windows import windows

# Plugins that find ``NAME_key = value`` need a credential word in the text: "key", "pwd",
# "pw", "password", "pass", "token" or "secret". Their regexes are the slow ones (an anchor at
# every word), so they run only when one of these words is there.
_CREDENTIAL_WORDS = ("key", "pw", "pass", "token", "secret")
_NEEDS_A_WORD = ("(?:key|pwd", "(?:secret[-_]")
_WORD = re.compile("|".join(_CREDENTIAL_WORDS))

PLUGINS: tuple[type[RegexBasedDetector], ...] = (
    ArtifactoryDetector,
    AWSKeyDetector,
    AzureStorageKeyDetector,
    BasicAuthDetector,
    CloudantDetector,
    DiscordBotTokenDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    IbmCloudIamDetector,
    IbmCosHmacDetector,
    MailchimpDetector,
    NpmDetector,
    OpenAIDetector,
    PrivateKeyDetector,
    PypiTokenDetector,
    SendGridDetector,
    SlackDetector,
    SoftlayerDetector,
    SquareOAuthDetector,
    StripeDetector,
    TelegramBotTokenDetector,
    TwilioKeyDetector,
)


class DetectSecretsDetector(SecretDetector):
    id = "detect_secrets"
    description = "The regex plugins of detect-secrets (22 providers), without verification."
    rules = ()
    _table: ClassVar[tuple[tuple[str, str, re.Pattern[str], bool], ...]]

    @classmethod
    def table(cls) -> tuple[tuple[str, str, re.Pattern[str], bool], ...]:
        """(plugin class name, its secret type, one denylist regex, whether it needs a
        credential word) for every regex."""
        if "_table" not in cls.__dict__:
            cls._table = tuple(
                (
                    plugin.__name__,
                    str(plugin.secret_type),
                    regex,
                    any(marker in regex.pattern for marker in _NEEDS_A_WORD),
                )
                for plugin in PLUGINS
                for regex in plugin().denylist
            )
        return cls._table

    def find(self, text: str) -> Iterator[Match]:
        low = text.lower()
        hits = [m.span() for m in _WORD.finditer(low)]
        near_words = windows(text, hits, margin=40, reach=200)  # where keyword plugins run
        for name, secret_type, regex, needs_word in self.table():
            for start, end in near_words if needs_word else [(0, len(text))]:
                for m in regex.finditer(text, start, end):
                    span = next(
                        (m.span(i) for i in range(1, (regex.groups or 0) + 1) if m.group(i)),
                        m.span(),
                    )
                    if span[1] <= span[0]:
                        continue
                    yield Match(
                        self.id,
                        f"detect_secrets.{name}",
                        self.kind,
                        self.data_class,
                        span[0],
                        span[1],
                        0.9,
                        f"detect-secrets {name} matched: {secret_type}",
                    )
