"""The assessment as text people read: Markdown (printed and written), the same content as
sections for the PDF renderer, and the questionnaire for a platform nobody has assessed yet.

Pure: strings and lists in, strings and lists out; the command writes the files.
"""
from __future__ import annotations

from archiefstroom.core.platforms.assessment import (ANSWERS, CAPTURE, DUTO, TO_VERIFY, PlatformAssessment,
                                                     Verdict)

CRITERIA_SOURCE = ("DUTO-kenmerken of the DUTO-raamwerk, Nationaal Archief (nationaalarchief.nl/archiveren/duto, "
                   "modules 1 and 2; see docs/platform-assessment.md)")


def sections(key: str, a: PlatformAssessment, v: Verdict) -> list[tuple]:
    """The assessment as ("heading", text), ("paragraph", text) and ("table", header, rows), in reading order."""
    out: list[tuple] = [
        ("paragraph", f"Platform {key} ({a.name}); facts last checked: {a.checked or 'never'}. "
                      "An answer marked 'to verify' is not known for sure and counts as open."),
        ("heading", "Verdict"),
        ("paragraph", f"Outcome: {v.outcome}."),
    ]
    for r in (v.route1, v.route2):
        label = {1: "Route 1 (one-way communication)", 2: "Route 2 (two-way communication)"}[r.route]
        out.append(("paragraph", f"{label}: {r.status}."))
        if r.reasons:
            out.append(("table", ["why" if r.status == "not possible" else "to verify first"], [[x] for x in r.reasons]))
        if r.conditions:
            out.append(("table", [f"route {r.route} only: condition (gap to accept or close)"],
                        [[x] for x in r.conditions]))
    if v.conditions:
        out.append(("table", ["either route: condition (gap to accept or close)"], [[x] for x in v.conditions]))
    out.append(("heading", "Whom to consult"))
    out.append(("table", ["who", "why"], [[c.who, "; ".join(c.why)] for c in v.consult]))
    out.append(("heading", "What can be captured"))
    out.append(("table", ["item", "answer", "how", "note"],
                [[CAPTURE[k], getattr(a.capture, k).answer, getattr(a.capture, k).how, getattr(a.capture, k).note]
                 for k in CAPTURE]))
    sw = a.reactions_can_be_switched_off
    out.append(("paragraph", f"Reactions can be switched off (route 1 needs it): {sw.answer}. "
                             + " ".join(x for x in (sw.how, sw.note) if x)))
    out.append(("heading", "APIs and exports"))
    out.append(("table", ["kind", "name", "access", "rate limits", "connector"],
                [[m.kind, m.name, m.access, m.rate_limits, m.connector or "none"] for m in a.methods]
                or [["", "none known", "", "", ""]]))
    out.append(("heading", "Terms and hosting"))
    out.append(("table", ["question", "answer", "note"], [
        ["terms restrict archiving", a.terms.restricts_archiving,
         " ".join(x for x in (a.terms.note, a.terms.source) if x)],
        ["where data is hosted", a.hosting.where, a.hosting.note],
        ["hosted or transferred outside the EEA", a.hosting.outside_eea, ""]]))
    out.append(("heading", "DUTO criteria"))
    out.append(("paragraph", f"Criteria: the {CRITERIA_SOURCE}. The answers say how the archived copy meets "
                             "each criterion, given what this platform lets us capture."))
    out.append(("table", ["criterion", "meaning", "answer", "note"],
                [[k, DUTO[k], getattr(a.duto, k).answer, getattr(a.duto, k).note] for k in DUTO]))
    if v.open_facts:
        out.append(("heading", "Still to verify"))
        out.append(("paragraph", ", ".join(v.open_facts)))
    if a.sources:
        out.append(("heading", "Sources"))
        out.append(("table", ["source"], [[s] for s in a.sources]))
    return out


def title(key: str, a: PlatformAssessment) -> str:
    return f"Platform assessment: {a.name}"


def _cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def markdown(key: str, a: PlatformAssessment, v: Verdict) -> str:
    lines = [f"# {title(key, a)}", ""]
    for part in sections(key, a, v):
        if part[0] == "heading":
            lines += [f"## {part[1]}", ""]
        elif part[0] == "paragraph":
            lines += [part[1], ""]
        else:
            _, header, rows = part
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
            lines.append("")
    return "\n".join(lines)


# -- the questionnaire -------------------------------------------------------------------

_ANSWER_HELP = "answer: yes | partial | no | to verify | not applicable"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def questionnaire(key: str, name: str | None = None) -> str:
    """A YAML file the user fills in and passes back with `--answers`: every answer starts as
    'to verify', so the file loads as it is (verdict: to verify before use)."""
    t = TO_VERIFY
    L = [f"# Platform assessment questionnaire: {key}",
         "# Fill in every answer, keep 'to verify' where you are not sure, then run",
         f"#   archiefstroom platform assess {key} --answers THIS_FILE [--out DIR]",
         f"# Answers: {', '.join(ANSWERS)}. 'how': which API, stream, webhook or export gives it.",
         "# 'note': your evidence (a link to the API reference or terms) or your doubt.",
         f"name: {_q(name or key)}",
         "checked: null                  # the date you checked these facts, YYYY-MM-DD",
         "",
         "# Which ways exist to get the data out? One entry per API, stream, webhook or export.",
         "# kind: api | stream | webhook | export | web archive",
         "methods: []",
         "#  - kind: api",
         '#    name: "..."                # e.g. the API and its endpoints',
         '#    access: "to verify"        # who may use it: free, paid tier, partner approval',
         '#    rate_limits: "to verify"   # calls per window, daily quota',
         "",
         "capture:"]
    for k, text in CAPTURE.items():
        L += [f"  # Can {text} be captured? {_ANSWER_HELP}",
              f"  {k}: {{answer: {t}, how: \"\", note: \"\"}}"]
    L += ["",
          "# Can the organisation switch reactions off (per post or per account)? Route 1 needs it.",
          f"reactions_can_be_switched_off: {{answer: {t}, note: \"\"}}",
          "",
          "# Do the platform's terms restrict keeping, using or handing over captured content",
          "# (e.g. a duty to delete content that was deleted on the platform)?",
          f"terms: {{restricts_archiving: {t}, note: \"\", source: \"\"}}",
          "",
          "# Where is the data hosted; is personal data hosted or transferred outside the EEA?",
          f"hosting: {{where: {t}, outside_eea: {t}, note: \"\"}}",
          "",
          "# DUTO-raamwerk (Nationaal Archief): can the archived copy meet each criterion,",
          "# given what the platform lets you capture? 'no' on any criterion blocks both routes.",
          "duto:"]
    for k, text in DUTO.items():
        L += [f"  # {k}: {text}",
              f"  {k}: {{answer: {t}, note: \"\"}}"]
    L += ["",
          "sources: []                    # links to API references, terms, privacy statements",
          ""]
    return "\n".join(L)
