"""Instruction override: text that tells the model to drop the instructions it was given."""

from __future__ import annotations

from proctor.detect._base import PatternDetector, Rule
from proctor.model import Severity

_G = r"[^\n.!?;\u3002\uff01\uff1f]{0,40}?"  # a short gap inside one sentence
_PRIOR = (
    r"(?:previous|prior|above|earlier|preceding|foregoing|initial|original|system|developer|"
    r"all(?: of)?(?: the| your)?|any|every|your)"
)
_INSTR = (
    r"(?:instructions?|prompts?|rules|directives?|guidelines|guidance|commands?|"
    r"constraints|restrictions|programming|guardrails|policies|polic(?:y|ies)|context|"
    r"system messages?|safety (?:rules|guidelines|filters))"
)


class InstructionOverride(PatternDetector):
    id = "injection.override"
    description = (
        "Instructions to ignore, forget or replace the instructions the model was given "
        "(EN, FR, DE, ES, PT, IT, ZH, JA)."
    )
    severity = Severity.HIGH
    rules = (
        Rule(
            "en.ignore",
            rf"\b(?:ignore|disregard|forget|override|bypass|skip|"
            rf"abandon|discard|neglect|"
            rf"throw away|set aside|do not follow|don'?t follow|stop following)\b{_G}\b{_PRIOR}"
            rf"\b{_G}\b{_INSTR}\b",
            "asks to ignore or override the model's instructions",
            0.95,
            triggers=(
                "ignor",
                "disregard",
                "forget",
                "overrid",
                "bypass",
                "skip",
                "abandon",
                "discard",
                "neglect",
                "throw away",
                "set aside",
                "follow",
            ),
            unless_before=("not ", "n't ", "never "),
        ),
        Rule(
            "en.forget_everything",
            r"\b(?:forget|disregard|ignore|erase|discard) (?:about )?(?:everything|all|anything)"
            r"(?: (?:that )?(?:you (?:know|were told|have been told|learned|learnt)|(?:from |said |"
            r"written )?(?:before|above|previously|so far|up to now)|about (?:your|the) "
            r"(?:rules|instructions|training)|pre-?obtained))\b",
            "asks the model to forget everything it was told",
            0.85,
            triggers=("forget", "disregard", "ignore", "erase", "discard"),
            unless_before=("not ", "n't ", "never "),
        ),
        Rule(
            "en.new_instructions",
            r"\b(?:new|updated|revised|real|actual|true|secret|hidden|additional|important)"
            r" (?:system )?(?:instructions?|directives?|orders|task)\s*(?::|follow\b|are\b)",
            "announces new instructions that would replace the model's own",
            0.75,
            triggers=("instruction", "directive", "orders", "task"),
        ),
        Rule(
            "en.instead",
            r"\b(?:instead|rather),? (?:you (?:must|should|will|need to)|your (?:new |real )?"
            r"(?:task|job|goal) is)\b",
            "redirects the model to a different task",
            0.6,
            Severity.MEDIUM,
            triggers=("instead", "rather"),
        ),
        Rule(
            "en.before_task",
            r"\bbefore (?:you )?(?:can )?(?:solve|complete|continue|do|answer|finish)(?:ing)?"
            r" (?:the|this|your|my) (?:task|request|question)\b[^\n]{0,60}?\b(?:please |you )?"
            r"(?:must|need to|have to|should|do)\b",
            "makes an extra action a precondition of the user's task",
            0.8,
            triggers=("before",),
        ),
        Rule(
            "en.important_message",
            r"\b(?:this is an? )?(?:important|urgent) (?:message|instructions?|note) "
            r"(?:from|for) (?:me|the user|the (?:system )?admin(?:istrator)?|your (?:user|owner|"
            r"developer)|the developers?|openai|anthropic)\b",
            "claims to be an important message from the user or the operator",
            0.8,
            triggers=("important", "urgent"),
        ),
        Rule(
            "fr.ignore",
            rf"\b(?:ignore[rsz]?|oublie[rsz]?|ne (?:tiens|tenez) pas compte|fais abstraction|"
            rf"faites abstraction|n'?obéis plus|outrepasse[rz]?)\s(?:de |des |à )?(?:toutes? )?"
            rf"(?:les|tes|vos|ces|mes|leurs)\b{_G}\b(?:instructions?|consignes|directives|règles|"
            rf"ordres|indications)\b",
            "asks, in French, to ignore the model's instructions",
            0.95,
            triggers=("ignor", "oubli", "compte", "abstraction", "obéis", "outrepass"),
        ),
        Rule(
            "fr.new",
            r"\bnouvelles? (?:instructions?|consignes|directives)\s*:",
            "announces new instructions (French)",
            0.75,
            triggers=("nouvelle",),
        ),
        Rule(
            "de.ignore",
            rf"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missacht(?:e|en)|übergeh(?:e|en)|"
            rf"setze? (?:dich )?über){_G}\b(?:anweisungen|instruktionen|anordnungen|regeln|"
            rf"vorgaben|befehle|richtlinien|aufforderungen)\b",
            "asks, in German, to ignore the model's instructions",
            0.95,
            triggers=("ignorier", "vergiss", "vergessen", "missacht", "übergeh", "über"),
        ),
        Rule(
            "de.ignore_after",
            r"\b(?:vorherigen|bisherigen|obigen|vorigen|ursprünglichen|alle[nr]?) "
            r"(?:anweisungen|instruktionen|regeln|vorgaben)\b[^\n.]{0,30}?\b(?:ignorieren|vergessen|"
            r"missachten)\b",
            "asks, in German, to ignore the model's instructions",
            0.95,
            triggers=("anweisung", "instruktion", "regeln", "vorgaben"),
        ),
        Rule(
            "de.new",
            r"\bneue (?:anweisungen|instruktionen|aufgabe)\s*:",
            "announces new instructions (German)",
            0.75,
            triggers=("neue",),
        ),
        Rule(
            "es.ignore",
            rf"\b(?:ignora|ignore|ignorad|ignorar|olvida|olvide|olvidad|olvidar|descarta|"
            rf"descarte|omite|omita|haz caso omiso|no sigas|no obedezcas){_G}\b(?:instrucciones|"
            rf"indicaciones|reglas|directrices|órdenes|ordenes|normas)\b",
            "asks, in Spanish, to ignore the model's instructions",
            0.95,
            triggers=("ignor", "olvid", "descart", "omit", "caso omiso", "no sigas", "obedezcas"),
        ),
        Rule(
            "es.new",
            r"\bnuevas (?:instrucciones|indicaciones|órdenes)\s*:",
            "announces new instructions (Spanish)",
            0.75,
            triggers=("nuevas",),
        ),
        Rule(
            "pt.ignore",
            rf"\b(?:ignore|ignora|ignorar|esqueça|esqueca|esquecer|desconsidere|desconsidera|"
            rf"descarte|não siga|nao siga|não obedeça){_G}\b(?:instruções|instrucoes|regras|"
            rf"diretrizes|orientações|orientacoes|ordens|comandos)\b",
            "asks, in Portuguese, to ignore the model's instructions",
            0.95,
            triggers=("ignor", "esque", "desconsider", "descart", "siga", "obedeça"),
        ),
        Rule(
            "pt.new",
            r"\bnovas (?:instruções|instrucoes|ordens)\s*:",
            "announces new instructions (Portuguese)",
            0.75,
            triggers=("novas",),
        ),
        Rule(
            "it.ignore",
            rf"\b(?:ignora|ignorate|ignorare|dimentica|dimenticate|dimenticare|trascura|"
            rf"non considerare|non seguire|non rispettare){_G}\b(?:istruzioni|regole|direttive|"
            rf"indicazioni|ordini|comandi)\b",
            "asks, in Italian, to ignore the model's instructions",
            0.95,
            triggers=("ignor", "dimentic", "trascur", "non consider", "non segui", "non rispett"),
        ),
        Rule(
            "it.new",
            r"\bnuove (?:istruzioni|direttive)\s*:",
            "announces new instructions (Italian)",
            0.75,
            triggers=("nuove",),
        ),
        Rule(
            "zh.ignore",
            r"(?:忽略|忽视|无视|忘记|忘掉|不要理会|不要遵守|不再遵守|跳过|覆盖|放弃)[^。\n]{0,12}?"
            r"(?:指令|指示|说明|规则|提示|命令|要求|设定|限制)",
            "asks, in Chinese, to ignore the model's instructions",
            0.95,
            triggers=(
                "忽略",
                "忽视",
                "无视",
                "忘记",
                "忘掉",
                "不要理会",
                "遵守",
                "跳过",
                "覆盖",
                "放弃",
            ),
        ),
        Rule(
            "zh.new",
            r"新的?(?:指令|指示|任务)[:\uff1a]",
            "announces new instructions (Chinese)",
            0.75,
            triggers=("新",),
        ),
        Rule(
            "ja.ignore",
            r"(?:指示|命令|指令|ルール|プロンプト|設定|制限|ガイドライン)[^。\n]{0,12}?"
            r"(?:無視|忘れ|従わな)",
            "asks, in Japanese, to ignore the model's instructions",
            0.95,
            triggers=("無視", "忘れ", "従わな"),
        ),
        Rule(
            "ja.new",
            r"新しい(?:指示|命令|タスク)[:\uff1a]",
            "announces new instructions (Japanese)",
            0.75,
            triggers=("新しい",),
        ),
    )
