"""Role hijack: "you are now ...", persona jailbreaks, and fake system, assistant or tool turns."""

from __future__ import annotations

from proctor.detect._base import PatternDetector, Rule
from proctor.model import Severity


class RoleHijack(PatternDetector):
    id = "injection.role"
    description = (
        "Attempts to give the model a new identity or persona (DAN, developer mode, "
        "'you are now'), and text posing as a system, assistant or tool message."
    )
    severity = Severity.HIGH
    rules = (
        Rule(
            "en.you_are_now",
            r"\b(?:you are now|you're now|you will now (?:act|be|behave|respond)|from now on,? "
            r"(?:you (?:are|will|must|shall)|act|respond|answer|reply)|you have been "
            r"(?:freed|liberated|jailbroken|unlocked))\b",
            "tries to give the model a new identity or behaviour",
            0.85,
            triggers=("you are now", "you're now", "you will now", "from now on", "you have been"),
        ),
        Rule(
            "en.persona",
            r"\b(?:dan|stan|dude|aim|antigpt|betterdan|mongo tom)\b[^\n]{0,60}?\b"
            r"(?:do anything now|jailbr(?:oken|eak)|no (?:restrictions|filters|limits|rules)|"
            r"stands? for)\b|"
            r"\bdo anything now\b",
            "uses a known persona jailbreak (DAN and its relatives)",
            0.95,
            triggers=("dan", "stan", "dude", "aim", "antigpt", "mongo", "do anything"),
        ),
        Rule(
            "en.mode",
            r"\b(?:developer|dev|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|"
            r"evil|dan|sudo|admin|debug|maintenance) mode (?:enabled|activated|on|is on|"
            r"unlocked|output|responses?)\b|\b(?:enable|activate|enter|switch to|turn on|simulate) "
            r"(?:the )?(?:developer|god|"
            r"jailbreak|unrestricted|unfiltered|uncensored|dan|sudo) mode\b",
            "switches the model to a fictitious unrestricted mode",
            0.9,
            triggers=(" mode",),
        ),
        Rule(
            "en.no_limits",
            r"\b(?:without|free (?:of|from)|no longer (?:bound|restricted) by|not bound by|"
            r"ignore) (?:any |all |your )?(?:ethical |moral |content |safety )?(?:restrictions|"
            r"filters|limitations|guidelines|censorship|rules|policies)\b[^\n]{0,40}?\b(?:ai|"
            r"model|assistant|chatbot|openai|respond|answer)\b",
            "asks the model to answer without its restrictions",
            0.6,
            Severity.MEDIUM,
            triggers=("without", "free ", "bound by", "ignore"),
        ),
        Rule(
            "en.pretend",
            r"\b(?:pretend (?:to be|you are|that you are)|act as (?:if you (?:are|were) )?(?:an? )?"
            r"(?:unrestricted|unfiltered|uncensored|evil|jailbroken|rogue|amoral)|role-?play as|"
            r"stay in character|break(?:ing)? character|"
            r"simulate (?:an? )?(?:unrestricted|unfiltered) (?:ai|model|assistant))\b",
            "asks the model to play a persona free of its rules",
            0.75,
            triggers=("pretend", "act as", "role", "character", "simulate"),
        ),
        Rule(
            "en.not_bound",
            r"\b(?:not|never|no longer|isn'?t|aren'?t|is not|are not) (?:be |been |being )?"
            r"(?:bound|restricted|limited|constrained|governed) by\b[^\n.]{0,50}?\b(?:any rules|"
            r"guidelines|ethics|ethical|moral|morals|openai|restrictions|filters|content polic)",
            "describes the model as no longer bound by its rules",
            0.8,
            triggers=("bound", "restricted", "limited", "constrained", "governed"),
        ),
        Rule(
            "en.policy_bypass",
            r"\b(?:bypass|ignore|violate|break|disregard|evade|circumvent|override)(?:s|es|ing)?"
            r"\b[^\n.]{0,30}?\b(?:openai|anthropic|content|usage|safety)(?:'s)? "
            r"(?:content |usage )?polic(?:y|ies)\b",
            "asks to bypass the model provider's content policy",
            0.85,
            triggers=("polic",),
        ),
        Rule(
            "en.amoral",
            r"\b(?:amoral|unfiltered|uncensored|unaligned|without (?:any )?"
            r"(?:morals|ethics|moral principles|ethical guidelines|censorship))\b[^\n.]{0,60}?"
            r"\b(?:ai|chatbot|bot|assistant|model|character|persona|responses?|gpt)\b",
            "describes an amoral or unfiltered AI persona",
            0.75,
            triggers=(
                "amoral",
                "unfilter",
                "uncensor",
                "unalign",
                "without",
            ),
        ),
        Rule(
            "en.evil_persona",
            r"\b(?:role of|you(?:'re| are)(?: now)?|act as|acting as|"
            r"play(?:ing)?(?: the role of)?|become) (?:an? |my |the )?(?:\w+ ){0,2}"
            r"(?:evil|unhinged|amoral|malicious|rogue|"
            r"jailbroken|unrestricted|unethical|immoral)\b",
            "casts the model as an evil, unhinged or unrestricted persona",
            0.75,
            triggers=(
                "evil",
                "unhinged",
                "amoral",
                "malicious",
                "rogue",
                "jailbroken",
                "unrestricted",
                "unethical",
                "immoral",
            ),
        ),
        Rule(
            "en.no_matter_how",
            r"\bno matter how (?:dangerous|reckless|inhumane|unethical|illegal|immoral|harmful|"
            r"offensive|explicit|inappropriate)\b",
            "demands answers however harmful",
            0.8,
            triggers=("no matter how",),
        ),
        Rule(
            "en.answers_anything",
            r"\b(?:answers?|responds? to|replies to|fulfills|complies with|provides?) "
            r"(?:all|any|every) (?:requests?|questions?|prompts?|commands?)\b[^\n]{0,80}?"
            r"\b(?:no matter|regardless|"
            r"without (?:any )?(?:refus|question|hesitat|restrict|censor|filter|warning))",
            "demands that every request be answered without refusal",
            0.75,
            triggers=("all", "any", "every"),
        ),
        Rule(
            "en.act_as",
            r"\b(?:i want you to act as|you are going to (?:act|pretend|play|be) as|"
            r"act as (?:an? )?(?:ai|chatbot|assistant|language model) (?:named|called|known as)|"
            r"(?:immerse yourself|fully immerse) (?:into|in)(?: the role of)?)\b",
            "gives the model a role to play",
            0.6,
            Severity.MEDIUM,
            triggers=("act as", "immerse"),
        ),
        Rule(
            "fake.chat_markup",
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>|"
            r"\[/?inst\]|<</?sys>>|<\|?(?:system|assistant)\|?>",
            "contains chat-template markup that fakes a system or assistant turn",
            0.9,
            triggers=(
                "<|",
                "[inst",
                "[/inst",
                "<<sys",
                "<sys",
                "/sys>>",
                "<system",
                "<assistant",
                "|system",
                "|assistant",
            ),
        ),
        Rule(
            "fake.turn",
            r"^\s*(?:#{1,4}\s*)?\[?(?:system|assistant|developer|tool|function)(?: message| "
            r"prompt| output)?\]?\s*:\s*\S",
            "a line posing as a system, assistant or tool message",
            0.6,
            Severity.MEDIUM,
            triggers=("system", "assistant", "developer", "tool", "function"),
        ),
        Rule(
            "fake.tags",
            r"</?(?:system|system_prompt|instructions?|admin|developer_message|information|"
            r"important_instructions?)>",
            "tags posing as system or operator instructions",
            0.75,
            triggers=(
                "<system",
                "</system",
                "<instruction",
                "</instruction",
                "<admin",
                "</admin",
                "<developer_message",
                "</developer_message",
                "<information",
                "</information",
                "<important_instruction",
                "</important_instruction",
            ),
        ),
        Rule(
            "fr.role",
            r"\b(?:(?:tu es|vous êtes) (?:maintenant|désormais|à présent)|à partir de maintenant,? "
            r"(?:tu|vous)|fais semblant d'être|faites semblant d'être|mode (?:développeur|"
            r"sans restrictions?|dan))\b",
            "tries to give the model a new identity (French)",
            0.85,
            triggers=("tu es", "vous êtes", "à partir de maintenant", "semblant", "mode "),
        ),
        Rule(
            "de.role",
            r"\b(?:du bist (?:jetzt|nun|ab sofort|ab jetzt)|ab (?:jetzt|sofort) bist du|"
            r"(?:tu|tun sie) so,? als (?:ob|wärst)|entwicklermodus)\b",
            "tries to give the model a new identity (German)",
            0.85,
            triggers=("du bist", "bist du", "so als", "so, als", "entwicklermodus"),
        ),
        Rule(
            "es.role",
            r"\b(?:ahora eres|a partir de ahora,? (?:eres|serás|actúa|actuarás|responde)|"
            r"finge (?:ser|que eres)|modo (?:desarrollador|sin restricciones|dan))\b",
            "tries to give the model a new identity (Spanish)",
            0.85,
            triggers=("ahora eres", "a partir de ahora", "finge", "modo "),
        ),
        Rule(
            "pt.role",
            r"\b(?:agora (?:você|voce|tu) é|a partir de agora,? (?:você|voce|tu)|"
            r"finja (?:ser|que é)|modo (?:desenvolvedor|sem restrições|dan))\b",
            "tries to give the model a new identity (Portuguese)",
            0.85,
            triggers=("agora", "finja", "modo "),
        ),
        Rule(
            "it.role",
            r"\b(?:(?:ora|adesso) sei|da (?:ora|adesso) in poi,? (?:sei|sarai|rispondi|agisci)|"
            r"fingi di essere|modalità (?:sviluppatore|senza restrizioni|dan))\b",
            "tries to give the model a new identity (Italian)",
            0.85,
            triggers=("sei", "in poi", "fingi", "modalità"),
        ),
        Rule(
            "zh.role",
            r"(?:你现在是|从现在开始[\uff0c,]?你|从现在起[\uff0c,]?你|假装你是|假装成|开发者模式|"
            r"没有任何限制|不受任何限制|越狱模式)",
            "tries to give the model a new identity (Chinese)",
            0.85,
            triggers=("你现在是", "从现在", "假装", "开发者模式", "限制", "越狱"),
        ),
        Rule(
            "ja.role",
            r"(?:あなたは今から|今からあなたは|これからあなたは|あなたはもう|になりきって|"
            r"開発者モード|制限のない|制限なしで|脱獄モード)",
            "tries to give the model a new identity (Japanese)",
            0.85,
            triggers=("あなたは", "になりきって", "開発者モード", "制限", "脱獄"),
        ),
    )
