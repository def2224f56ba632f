"""`archiefstroom platform assess NAME [--answers FILE] [--out DIR]`, `platform list`: may an
organisation use a platform, and on which route? (issue 17, docs/platform-assessment.md)

A platform in deploy/registry/assessments.yaml gets its assessment and verdict; any other name
gets the questionnaire to fill in, which comes back with --answers. With --out the assessment is
also written as Markdown and PDF (duties/documents.py, the one renderer), the questionnaire as YAML.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from archiefstroom.core.platforms import report
from archiefstroom.core.platforms.assessment import assess
from archiefstroom.duties.documents import Document
from archiefstroom.ground import config, registries

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def register(sub):
    p = sub.add_parser("platform", help="assess whether a platform can be used and archived (route 1 / route 2)")
    ps = p.add_subparsers(dest="platform_command", required=True, metavar="ACTION")
    a = ps.add_parser("assess", help="the assessment and verdict of a platform, or the questionnaire for a new one")
    a.add_argument("name", metavar="NAME", help="platform name, e.g. mastodon (lower case)")
    a.add_argument("--answers", type=Path, help="a filled-in questionnaire (YAML) to assess instead of the registry")
    a.add_argument("--out", type=Path, help="directory to write NAME-assessment.md and .pdf "
                                            "(or NAME-questionnaire.yaml)")
    a.set_defaults(func=assess_command)
    ls = ps.add_parser("list", help="the assessed platforms and their verdicts")
    ls.set_defaults(func=list_command)


def _fail(text: str) -> int:
    print(f"archiefstroom: platform: {text}", file=sys.stderr)
    return 2


def assess_command(args) -> int:
    name = args.name.strip().lower()
    if not _NAME.fullmatch(name):
        return _fail(f"{args.name!r} is not a platform name (lower-case letters, digits, . _ -)")
    if args.answers is not None:
        assessment = registries.load_answers(args.answers)
    else:
        reg = registries.load_for(config.load(args.config))
        assessment = reg.assessments.platforms.get(name)
        if assessment is None:
            return _questionnaire(name, args.out, sorted(reg.assessments.platforms))
    verdict = assess(assessment)
    text = report.markdown(name, assessment, verdict)
    print(text)
    if args.out is not None:
        try:
            for path in write(name, assessment, verdict, args.out):
                print(f"wrote {path}", file=sys.stderr)
        except OSError as exc:
            return _fail(f"cannot write to {args.out}: {exc}")
    return 0


def _questionnaire(name: str, out: Path | None, known: list[str]) -> int:
    text = report.questionnaire(name)
    print(text)
    print(f"# {name} has no assessment yet (assessed: {', '.join(known)}): fill in the questionnaire above and run\n"
          f"#   archiefstroom platform assess {name} --answers FILE", file=sys.stderr)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{name}-questionnaire.yaml"
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write to {out}: {exc}")
        print(f"wrote {path}", file=sys.stderr)
    return 0


def document(name: str, assessment, verdict) -> Document:
    doc = Document(report.title(name, assessment),
                   facts=[("Platform", name), ("Outcome", verdict.outcome),
                          ("Facts last checked", str(assessment.checked or "never"))])
    for part in report.sections(name, assessment, verdict):
        if part[0] == "heading":
            doc.heading(part[1])
        elif part[0] == "paragraph":
            doc.paragraph(part[1])
        else:
            doc.table(part[1], part[2])
    return doc


def write(name: str, assessment, verdict, out: Path) -> list[Path]:
    """NAME-assessment.md and NAME-assessment.pdf in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / f"{name}-assessment.md"
    md.write_text(report.markdown(name, assessment, verdict), encoding="utf-8")
    return [md, document(name, assessment, verdict).to_pdf(out / f"{name}-assessment.pdf")]


def list_command(args) -> int:
    reg = registries.load_for(config.load(args.config))
    for name, a in sorted(reg.assessments.platforms.items()):
        v = assess(a)
        print(f"{name:10} {v.outcome:30} route 1 {v.route1.status}, route 2 {v.route2.status}; "
              f"{len(v.open_facts)} to verify (checked {a.checked or 'never'})")
    return 0
