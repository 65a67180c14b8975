"""Every finding of the rule detectors over the whole corpus, one line each, to diff.

An optimisation of the rule detectors must leave their findings byte-identical. Run this
before and after the change and compare (``cmp`` or ``diff``)::

    python benchmarks/detect_findings.py /tmp/before.tsv
    ... change ...
    python benchmarks/detect_findings.py /tmp/after.tsv && cmp /tmp/before.tsv /tmp/after.tsv

Scanned with the default registry without the classifier (the rules; the classifier has its
own tests): every text of every split of ``training/manifest.yaml`` (hostile and benign), each
line of those texts on its own (short inputs), and, for the texts of at most 1,000 characters,
encoded and disguised variants that exercise the decoders and the normalisation (base64, hex,
rot13, URL and HTML-entity escapes, ``\\u`` escapes, Unicode tag characters, look-alike letters
and zero-width characters, an HTML page with a hidden block, a JSON value). A line reads
``sample variant detector rule start end score severity where explanation`` (tab-separated);
the last line is a count and a sha256 of the lines before it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.corpus import load  # noqa: E402

from proctor.detect import DetectorRegistry  # noqa: E402

_ROT13 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
_LOOKALIKE = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "i": "і"})  # noqa: RUF001


def variants(text: str, n: int) -> Iterator[tuple[str, str, str]]:
    """(variant name, kind, text): the text as such, then disguised (short texts only)."""
    yield "text", "auto", text
    lines = [line.strip() for line in text.splitlines()]
    if len(lines) > 1:
        for i, line in enumerate(lines):
            if len(line) >= 12:
                yield f"line{i}", "text", line
    if len(text) > 1000:
        return
    raw = text.encode("utf-8")
    yield "base64", "auto", f"Attachment: {base64.b64encode(raw).decode()} (end)"
    yield "hex", "auto", f"data {raw.hex()} end"
    yield "hex-escapes", "text", "".join(f"\\x{b:02x}" for b in raw[:200])
    yield "rot13", "text", text.translate(_ROT13)
    yield "url", "text", quote(text)
    yield "entities", "text", "".join(f"&#{ord(c)};" if c.isalpha() else c for c in text)
    yield "u-escapes", "text", "".join(f"\\u{ord(c):04x}" for c in text[:200])
    tags = "".join(chr(0xE0000 + ord(c)) for c in text if " " <= c < "\x7f")
    yield "tags", "text", f"Hello{tags}"
    mixed = text.translate(_LOOKALIKE) if n % 2 else text.replace("e", "e\u200b")
    yield "disguised", "text", mixed
    yield (
        "html",
        "auto",
        (
            "<html><body><p>Quarterly report attached.</p>"
            f'<div style="display:none">{html.escape(text)}</div><!-- {text} --></body></html>'
        ),
    )
    yield "json", "auto", json.dumps({"subject": "note", "body": text, "items": [text[:80]]})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where to write the findings (TSV)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples")
    args = parser.parse_args()
    data = load()
    if args.limit:
        data = data[: args.limit]
    rules = DetectorRegistry.default().without("injection.classifier")
    digest = hashlib.sha256()
    count = scans = 0
    t0 = time.process_time()
    with args.out.open("w", encoding="utf-8") as out:
        for n, sample in enumerate(data):
            for variant, kind, text in variants(sample.text, n):
                scans += 1
                for f in rules.scan(text, kind):
                    explanation = " ".join(f.explanation.split())
                    line = (
                        f"{n}:{sample.source}\t{variant}\t{f.detector}\t{f.rule}\t{f.span[0]}\t"
                        f"{f.span[1]}\t{f.score!r}\t{f.severity}\t{f.where}\t{explanation}\n"
                    )
                    out.write(line)
                    digest.update(line.encode("utf-8"))
                    count += 1
        out.write(f"# {count} findings in {scans} scans of {len(data)} samples\t")
        out.write(f"sha256 {digest.hexdigest()}\n")
    cpu = time.process_time() - t0
    print(f"{count} findings in {scans} scans of {len(data)} samples, {cpu:.1f} s CPU")
    print(f"sha256 {digest.hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
