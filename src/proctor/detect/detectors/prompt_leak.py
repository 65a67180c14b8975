"""Prompt and secret leak: requests to reveal the system prompt, hidden rules or credentials."""

from __future__ import annotations

from proctor.detect._base import PatternDetector, Rule
from proctor.model import Severity

_REVEAL_EN = (
    r"(?:reveal|show|print|output|repeat|display|tell me|give me|leak|dump|share|disclose|"
    r"write out|spell out|recite|translate|summari[sz]e|what (?:is|are|was|were))"
)
_CREDS = (
    r"(?:api[ _-]?keys?|passwords?|passphrases?|secret keys?|private keys?|access tokens?|"
    r"auth(?:entication)? tokens?|credentials|session cookies?|ssh keys?|seed phrases?)"
)
_REVEAL_YOUR = (
    r"(?:reveal|show|print|output|repeat|display|tell me|give me|leak|dump|share|disclose|"
    r"paste|quote|enumerate|list|describe|write out|spell out|recite|expose|confirm|"
    r"explain|provide|send me)"
)
_HIDDEN_SELF = (
    r"(?:(?:system|initial|original|hidden|secret|internal|pre-?|starting|first|base|"
    r"underlying|real|exact)\s?prompts?|prompt (?:text|instructions)|"
    r"(?:hidden|secret|internal|real|true|underlying|core|original|initial) (?:objectives|goals|"
    r"priorities|directives|instructions|guidelines|guardrails|rules|parameters|agenda|"
    r"programming|configuration|settings|metrics)|(?:instructions|directives|guardrails|"
    r"guidelines|rules) (?:you (?:were|are) given|from your (?:developers?|creators?|operators?)"
    r"|that (?:limit|govern|control|restrict) you(?:r \w+)?)|configuration|programming)"
)
_HELD = (
    r"(?:api[ _-]?keys?|passwords?|secret(?:s| keys?| tokens?)?|private keys?|access keys?|"
    r"(?:access|auth|bearer|jwt) tokens?|jwt secrets?|credentials|ssh keys?|encryption keys?|"
    r"master keys?|connection strings?|database (?:uri|url|password)s?|ssl certificates?|"
    r"env(?:ironment)? var(?:iable)?s?|\.env file)"
)


class PromptLeak(PatternDetector):
    id = "injection.prompt_leak"
    description = (
        "Requests to reveal the system prompt, the model's hidden instructions, or secrets such "
        "as API keys and passwords (EN, FR, DE, ES, PT, IT, ZH, JA)."
    )
    severity = Severity.HIGH
    rules = (
        Rule(
            "en.system_prompt",
            rf"\b{_REVEAL_EN}\b[^\n.]{{0,30}}?\b(?:your|the|its|my|their)\s(?:full |entire |"
            r"exact |complete )?(?:system|initial|original|hidden|secret|internal|pre-?prompt|"
            r"developer|confidential)\s(?:prompt|instructions?|message|rules|directives|"
            r"configuration)\b",
            "asks the model to reveal its system prompt or hidden instructions",
            0.9,
            triggers=("prompt", "instruction", "message", "rules", "directive", "configuration"),
        ),
        Rule(
            "en.your_prompt",
            rf"\b{_REVEAL_YOUR}\b[^\n.?!]{{0,40}}?\b(?:your|ur)\s(?:full |entire |exact |complete "
            rf"|whole |actual |current |own )?{_HIDDEN_SELF}\b|"
            rf"\bwhat(?:'s| is| are| were)\b[^\n.?!]{{0,30}}?\byour\s(?:full |exact |actual )?"
            rf"{_HIDDEN_SELF}\b|"
            r"\b(?:first|opening|initial|last) (?:sentence|line|words?|paragraph) of (?:your|the) "
            r"(?:system )?(?:prompt|instructions)\b",
            "asks the model to reveal its own prompt, hidden instructions, objectives or rules",
            0.8,
            triggers=("your", "ur ", "first", "opening", "initial", "last"),
        ),
        Rule(
            "en.hidden_rules",
            rf"\b{_REVEAL_YOUR}\b[^\n.?!]{{0,30}}?\b(?:hidden|secret|internal|undisclosed|"
            r"confidential) (?:\w+ )?(?:directives|guardrails|instructions|rules|prompts?|"
            r"templates|objectives|priorities|agenda|parameters)\b|"
            r"\b(?:what|which) (?:are |were )?(?:your|the) (?:real|true|actual|hidden|secret|"
            r"internal|exact) (?:objectives|goals|priorities|directives|parameters|instructions)\b",
            "asks the model to reveal hidden directives, guardrails or objectives",
            0.75,
            triggers=(
                "hidden",
                "secret",
                "internal",
                "undisclosed",
                "confidential",
                "real",
                "true",
                "actual",
                "exact",
            ),
        ),
        Rule(
            "en.your_secrets",
            rf"\b{_REVEAL_YOUR}\b[^\n.?!]{{0,40}}?\b(?:your|ur|you (?:use|store|keep|have|were "
            rf"given))\b[^\n.?!]{{0,25}}?{_HELD}|\b{_HELD}\s(?:you|that you) "
            r"(?:use|store|keep|have|hold|load)\b",
            "asks the model to reveal secrets it holds (keys, tokens, passwords, connection "
            "strings)",
            0.75,
            triggers=(
                "key",
                "password",
                "secret",
                "token",
                "credential",
                "connection string",
                "certificate",
                "env",
                "database",
            ),
            unless_before=("not ", "n't ", "never "),
        ),
        Rule(
            "en.other_conversations",
            r"\b(?:what did|what has|repeat what|tell me what) (?:the )?(?:previous|last|other|"
            r"earlier) (?:users?|customers?|person|conversation)\b|\brepeat your (?:last|previous) "
            r"(?:private )?(?:reply|answer|message|response) (?:to|before)\b",
            "asks the model to disclose another user's conversation",
            0.75,
            triggers=("previous", "last", "other", "earlier"),
        ),
        Rule(
            "en.words_above",
            r"\b(?:repeat|print|output|copy|echo) (?:all )?(?:the |of )?(?:words|text|everything|"
            r"instructions|lines) (?:above|before this|preceding|you were given)\b|"
            r"\b(?:everything|what) you (?:see|read|have|were given) (?:above|before) (?:this|the "
            r"(?:first|user'?s?))\b|\bline by line\b[^\n]{0,40}\babove\b|"
            r"\bwhat (?:were|are) you told (?:before|at the start|initially)\b",
            "asks the model to repeat the text that precedes the conversation",
            0.85,
            triggers=("above", "before this", "preceding", "you were given", "you told"),
        ),
        Rule(
            "en.secrets",
            rf"\b(?:send|reveal|print|give|share|forward|email|leak|post|upload|exfiltrate|"
            rf"tell me|list|dump|output)\b[^\n.]{{0,30}}?\b(?:all |the |your |any |every )"
            rf"(?:stored |saved |user'?s? |admin |customer )?{_CREDS}\b",
            "asks for credentials or secrets to be revealed or sent",
            0.6,
            Severity.MEDIUM,
            triggers=(
                "key",
                "password",
                "passphrase",
                "token",
                "credential",
                "cookie",
                "seed phrase",
            ),
            unless_before=("not ", "n't ", "never "),
        ),
        Rule(
            "fr.system_prompt",
            r"\b(?:révèle|révélez|affiche|affichez|montre|montrez|répète|répétez|donne|donnez|"
            r"dis|dites)[^\n.]{0,30}?\b(?:prompt (?:système|initial)|instructions (?:système|"
            r"initiales|cachées)|consignes (?:système|initiales|cachées))\b",
            "asks, in French, for the system prompt",
            0.9,
            triggers=("prompt", "instructions", "consignes"),
        ),
        Rule(
            "de.system_prompt",
            r"\b(?:zeig|zeige|gib|verrate|wiederhole|nenne|gebe?n? sie)[^\n.]{0,30}?"
            r"\b(?:system-?prompt|systemanweisungen|systemnachricht|(?:deine|ihre) "
            r"(?:ursprünglichen|anfänglichen|versteckten|geheimen) (?:anweisungen|regeln))\b",
            "asks, in German, for the system prompt",
            0.9,
            triggers=("prompt", "systemanweisung", "systemnachricht", "anweisungen", "regeln"),
        ),
        Rule(
            "es.system_prompt",
            r"\b(?:revela|revélame|muestra|muéstrame|muestrame|repite|dime|imprime|escribe|comparte)[^\n.]{0,30}?"
            r"\b(?:prompt del sistema|mensaje del sistema|instrucciones (?:del sistema|iniciales|"
            r"originales|ocultas))\b",
            "asks, in Spanish, for the system prompt",
            0.9,
            triggers=("prompt", "mensaje del sistema", "instrucciones"),
        ),
        Rule(
            "pt.system_prompt",
            r"\b(?:revele|mostre|repita|diga|imprima|escreva|compartilhe)[^\n.]{0,30}?"
            r"\b(?:prompt do sistema|mensagem do sistema|instruções (?:do sistema|iniciais|"
            r"originais|ocultas))\b",
            "asks, in Portuguese, for the system prompt",
            0.9,
            triggers=("prompt", "mensagem do sistema", "instruções"),
        ),
        Rule(
            "it.system_prompt",
            r"\b(?:rivela|mostra|mostrami|ripeti|dimmi|stampa|scrivi)[^\n.]{0,30}?"
            r"\b(?:prompt di sistema|messaggio di sistema|istruzioni (?:di sistema|iniziali|"
            r"originali|nascoste))\b",
            "asks, in Italian, for the system prompt",
            0.9,
            triggers=("prompt", "messaggio di sistema", "istruzioni"),
        ),
        Rule(
            "zh.system_prompt",
            r"(?:显示|输出|告诉我|透露|泄露|打印|重复|给我看)[^。\n]{0,10}?(?:系统提示|系统指令|"
            r"初始指令|原始指令|提示词|隐藏指令)|(?:系统提示词?|初始指令)[^。\n]{0,6}?(?:是什么|发给我)",
            "asks, in Chinese, for the system prompt",
            0.9,
            triggers=("系统提示", "系统指令", "初始指令", "原始指令", "提示词", "隐藏指令"),
        ),
        Rule(
            "ja.system_prompt",
            r"(?:システムプロンプト|初期指示|元の指示|隠された指示)[^。\n]{0,10}?(?:表示|教え|出力|"
            r"見せ|繰り返|書き出)",
            "asks, in Japanese, for the system prompt",
            0.9,
            triggers=("システムプロンプト", "初期指示", "元の指示", "隠された指示"),
        ),
    )
