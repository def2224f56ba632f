"""Build pseudonymise.jsonl (text + entity offsets into the original text) from annotated.txt.

Run: .venv/bin/python datasets/pseudonymise/build.py   (checks every BSN and IBAN in the gold set)
"""
from __future__ import annotations

import re
import sys

from archiefstroom.core.pseudonymise import evaluate
from archiefstroom.core.pseudonymise.recognizers import bsn_valid, iban_valid


def main() -> int:
    ds = evaluate.parse_source(evaluate.SOURCE.read_text(encoding="utf-8"))
    problems = 0
    for ex in ds.examples:
        for e in ex.entities:
            value = re.sub(r"[^0-9A-Za-z]", "", ex.text[e.start:e.end])
            if e.label == "IBAN" and not iban_valid(value.upper()):
                print(f"{ex.id}: IBAN fails mod 97: {value}", file=sys.stderr)
                problems += 1
            if e.label == "BSN" and len(value) == 9 and not bsn_valid(value):
                print(f"{ex.id}: BSN fails the 11-proef (only allowed with 'bsn' context): {value}", file=sys.stderr)
    evaluate.write(ds)
    print(f"{len(ds.examples)} examples, entities {evaluate.by_label_sources(ds)} -> {evaluate.BUILT}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
