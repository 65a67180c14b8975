"""GitHub tokens: classic personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server
(ghs_), refresh (ghr_) and fine-grained personal access tokens (github_pat_)."""

from __future__ import annotations

from proctor.vault._detector import SecretDetector, SecretRule

_PREFIXES = {
    "ghp_": "a classic personal access token",
    "gho_": "an OAuth access token",
    "ghu_": "a user-to-server token",
    "ghs_": "a server-to-server (app installation) token",
    "ghr_": "a refresh token",
}


class GitHubTokenDetector(SecretDetector):
    id = "github_token"
    description = "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)."
    rules = (
        *(
            SecretRule(
                f"github.{prefix[:3]}",
                rf"\b{prefix}[A-Za-z0-9]{{36,251}}\b",
                f"GitHub {what} ({prefix})",
                (prefix,),
                prefix,
            )
            for prefix, what in _PREFIXES.items()
        ),
        SecretRule(
            "github.fine_grained",
            r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b",
            "a GitHub fine-grained personal access token (github_pat_)",
            ("github_pat_",),
            "github_pat_",
        ),
    )
