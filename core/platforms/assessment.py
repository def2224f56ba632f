"""A platform assessment and its verdict: can an organisation archive what it does there, as the
Archiefwet requires, on route 1 (one-way) or route 2 (two-way)?

The facts are hand-written per platform in deploy/registry/assessments.yaml (or, for a platform
nobody has assessed yet, in a filled-in questionnaire). They are read by the one strict loader
(ground/registries.py), so a wrong answer names file, line and field. The verdict is pure code over
those facts, so the same answers always give the same verdict, and the rules check can refuse an
account whose route the verdict does not allow. docs/platform-assessment.md explains the rules.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Literal

from archiefstroom.core.fields import check

# An answer: yes/no (YAML's yes/no/true/false arrive as booleans), partial, to verify, or not
# applicable (the platform has no such thing, e.g. no direct messages at all).
Answer = bool | Literal["yes", "no", "partial", "to verify", "not applicable"]
ANSWERS = ("yes", "partial", "no", "to verify", "not applicable")
TO_VERIFY = "to verify"

# What can be captured, in the order the issue lists it.
CAPTURE = {
    "posts": "posts of the organisation's own account",
    "reactions": "reactions (replies, comments) on those posts",
    "nested_reactions": "reactions on reactions",
    "edits": "edits (new versions of a post or reaction)",
    "deletes": "deletes (whether a removal can be observed)",
    "media": "media (images, video) attached to posts",
    "direct_messages": "direct messages to and from the account",
}

# The DUTO-kenmerken of the Nationaal Archief's DUTO-raamwerk (module 2, 2023-2024), in its order;
# the paraphrase is ours. docs/platform-assessment.md gives the sources.
DUTO = {
    "vindbaar": "the information can be found, quickly and with reasonable effort, by those entitled to it",
    "beschikbaar": "the information can be consulted and used for as long as it must be kept",
    "leesbaar": "people (a rendition) and machines (an export) can read it",
    "interpreteerbaar": "its context is known: who made it, when, in which process, in reply to what",
    "betrouwbaar": "it is complete and authentic: integrity, versions and changes can be shown",
    "toekomstbestendig": "it stays accessible through changes of systems, formats and suppliers",
}


def _norm(v) -> str:
    return "yes" if v is True else "no" if v is False else v


@dataclass
class Fact:
    """One answer with how it is achieved (API or export) and a note with the evidence or doubt."""
    answer: Answer
    how: str = ""
    note: str = ""

    def __post_init__(self):
        self.answer = _norm(self.answer)


@dataclass
class Capture:
    posts: Fact
    reactions: Fact
    nested_reactions: Fact
    edits: Fact
    deletes: Fact
    media: Fact
    direct_messages: Fact


@dataclass
class Method:
    """A way to get the data out: an API, a stream, a webhook, an export or web archiving."""
    kind: Literal["api", "stream", "webhook", "export", "web archive"]
    name: Annotated[str, check(lambda v: bool(v.strip()), "a non-empty name of the API or export")]
    access: str = TO_VERIFY          # who may use it, on which terms or tier
    rate_limits: str = TO_VERIFY
    connector: str = ""              # archiefstroom's connector, when there is one


@dataclass
class Terms:
    """Do the platform's terms restrict keeping, using or handing over captured content?"""
    restricts_archiving: Answer
    note: str = ""
    source: str = ""

    def __post_init__(self):
        self.restricts_archiving = _norm(self.restricts_archiving)


@dataclass
class Hosting:
    where: str = TO_VERIFY
    outside_eea: Answer = TO_VERIFY   # personal data hosted or transferred outside the EEA (AVG chapter V)
    note: str = ""

    def __post_init__(self):
        self.outside_eea = _norm(self.outside_eea)


@dataclass
class Duto:
    """How the archived copy answers each DUTO-kenmerk, given what the platform lets us capture."""
    vindbaar: Fact
    beschikbaar: Fact
    leesbaar: Fact
    interpreteerbaar: Fact
    betrouwbaar: Fact
    toekomstbestendig: Fact


@dataclass
class PlatformAssessment:
    name: Annotated[str, check(lambda v: bool(v.strip()), "the platform's name as people know it")]
    checked: dt.date | None = None     # when these facts were last checked; None: never
    methods: list[Method] = field(default_factory=list)
    capture: Capture | None = None
    reactions_can_be_switched_off: Fact | None = None
    terms: Terms | None = None
    hosting: Hosting = field(default_factory=Hosting)
    duto: Duto | None = None
    sources: list[str] = field(default_factory=list)

    def validate(self):
        for name in ("capture", "reactions_can_be_switched_off", "terms", "duto"):
            if getattr(self, name) is None:
                raise ValueError(f"{name}: expected this required section to be present")


@dataclass
class AssessmentsFile:
    platforms: dict[str, PlatformAssessment] = field(default_factory=dict)


# -- the verdict ------------------------------------------------------------------------

Status = Literal["possible", "not possible", "to verify"]


@dataclass(frozen=True)
class RouteVerdict:
    route: int
    status: Status
    reasons: tuple[str, ...] = ()      # why not possible, or what must be verified first
    conditions: tuple[str, ...] = ()   # gaps the organisation must accept or close, when possible


@dataclass(frozen=True)
class Consult:
    who: str
    why: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    route1: RouteVerdict
    route2: RouteVerdict
    conditions: tuple[str, ...]        # gaps for either route (the routes list only their own)
    consult: tuple[Consult, ...]
    open_facts: tuple[str, ...]        # every answer still "to verify"

    @property
    def outcome(self) -> str:
        ok = [r.route for r in (self.route1, self.route2) if r.status == "possible"]
        if ok == [1, 2]:
            return "route 1 and route 2 possible"
        if ok:
            return f"route {ok[0]} possible"
        if TO_VERIFY in (self.route1.status, self.route2.status):
            return "to verify before use"
        return "not archivable as required"

    def route(self, n: int) -> RouteVerdict:
        return self.route1 if n == 1 else self.route2


def _fact_text(f: Fact) -> str:
    return "; ".join(x for x in (f.how, f.note) if x) or "no details given"


def open_facts(a: PlatformAssessment) -> list[str]:
    """Every answer still 'to verify', named by its YAML path."""
    out = []
    for key in CAPTURE:
        if getattr(a.capture, key).answer == TO_VERIFY:
            out.append(f"capture.{key}")
    if a.reactions_can_be_switched_off.answer == TO_VERIFY:
        out.append("reactions_can_be_switched_off")
    if a.terms.restricts_archiving == TO_VERIFY:
        out.append("terms.restricts_archiving")
    if a.hosting.outside_eea == TO_VERIFY:
        out.append("hosting.outside_eea")
    for key in DUTO:
        if getattr(a.duto, key).answer == TO_VERIFY:
            out.append(f"duto.{key}")
    if not a.methods:
        out.append("methods")
    return out


def _gate(reasons: list[str], pending: list[str], answer: str, no: str, unknown: str) -> None:
    """A blocking requirement: `no` blocks the route, 'to verify' leaves it undecided."""
    if answer == "no":
        reasons.append(no)
    elif answer == TO_VERIFY:
        pending.append(unknown)


def assess(a: PlatformAssessment) -> Verdict:
    """The verdict per route, its conditions and whom to consult, from the facts alone."""
    cap = a.capture
    common_no: list[str] = []
    common_pending: list[str] = []
    if not a.methods and all(getattr(cap, k).answer == TO_VERIFY for k in CAPTURE):
        common_pending.append("which API, stream, webhook or export gets the data out is to verify")
    elif not a.methods:
        common_no.append("no API, stream, webhook or export is known to get the data out")
    _gate(common_no, common_pending, cap.posts.answer,
          f"the organisation's own posts cannot be captured ({_fact_text(cap.posts)})",
          "whether the organisation's own posts can be captured is to verify")
    for key in DUTO:
        fact = getattr(a.duto, key)
        _gate(common_no, common_pending, fact.answer,
              f"DUTO {key} cannot be met: {_fact_text(fact)}",
              f"whether DUTO {key} can be met is to verify")

    conditions: list[str] = []
    if cap.posts.answer == "partial":
        conditions.append(f"posts are captured only in part: {_fact_text(cap.posts)}")
    for key in ("edits", "deletes"):
        f = getattr(cap, key)
        if f.answer in ("no", "partial", TO_VERIFY):
            what = {"edits": "an edit is not (always) seen: the archive keeps the version it captured",
                    "deletes": "a delete is not (always) seen: the archive cannot show that an item was removed"}[key]
            conditions.append(f"{key} {f.answer}: {what} ({_fact_text(f)})")
    if cap.media.answer in ("no", "partial", TO_VERIFY):
        conditions.append(f"media {cap.media.answer}: keep the media files themselves another way "
                          f"({_fact_text(cap.media)})")
    if cap.direct_messages.answer in ("no", "partial", TO_VERIFY):
        conditions.append("direct messages cannot (all) be archived: do not handle webcare or burgerbrieven "
                          f"through direct messages on this platform ({_fact_text(cap.direct_messages)})")
    if a.terms.restricts_archiving in ("yes", "partial"):
        conditions.append(f"the platform's terms restrict archiving: {a.terms.note or 'see the terms'}; "
                          "the Archiefwet duty stands, agree how to meet both")
    for key in DUTO:
        f = getattr(a.duto, key)
        if f.answer == "partial":
            conditions.append(f"DUTO {key} only in part: {_fact_text(f)}")

    r1_no, r1_pending = list(common_no), list(common_pending)
    sw = a.reactions_can_be_switched_off
    if sw.answer in ("no", "partial"):
        r1_no.append(f"reactions cannot be switched off ({_fact_text(sw)}): every account there is two-way, "
                     "so route 2 applies")
    elif sw.answer == TO_VERIFY:
        r1_pending.append("whether reactions can be switched off is to verify")

    r2_no, r2_pending = list(common_no), list(common_pending)
    _gate(r2_no, r2_pending, cap.reactions.answer,
          f"reactions cannot be captured ({_fact_text(cap.reactions)}): the two-way communication route 2 "
          "must archive would be lost",
          "whether reactions can be captured is to verify")
    r2_conditions = []
    if cap.reactions.answer == "partial":
        r2_conditions.append(f"reactions are captured only in part: {_fact_text(cap.reactions)}")
    if cap.nested_reactions.answer in ("no", "partial", TO_VERIFY):
        r2_conditions.append(f"reactions on reactions {cap.nested_reactions.answer}: threads may be incomplete "
                             f"({_fact_text(cap.nested_reactions)})")

    def route(n, no, pending, conds) -> RouteVerdict:
        if no:
            return RouteVerdict(n, "not possible", tuple(no))
        if pending:
            return RouteVerdict(n, TO_VERIFY, tuple(pending), tuple(conds))
        return RouteVerdict(n, "possible", (), tuple(conds))

    r1 = route(1, r1_no, r1_pending, [])
    r2 = route(2, r2_no, r2_pending, r2_conditions)
    facts = open_facts(a)
    common = tuple(conditions) if "possible" in (r1.status, r2.status) or TO_VERIFY in (r1.status, r2.status) else ()
    return Verdict(r1, r2, common, tuple(_consult(a, r1, r2, common, facts)), tuple(facts))


def _consult(a: PlatformAssessment, r1: RouteVerdict, r2: RouteVerdict, common: tuple,
             facts: list[str]) -> list[Consult]:
    """Whom to ask, each with the reasons that follow from this assessment."""
    out = []
    rm = ["decides whether and how the platform is used under the Archiefwet, and records the conditions "
          "of this assessment in the archiving policy"]
    if common or any(r.conditions for r in (r1, r2)):
        rm.append("accepts or closes the listed gaps (conditions) before the first post")
    rm.append("applies the selectielijst to the platform's records (deploy/registry/selectielijst.yaml)")
    out.append(Consult("records manager (recordmanager / DIV)", tuple(rm)))

    fg = []
    if r2.status != "not possible":
        fg.append("route 2 archives citizens' reactions: personal data of third parties, a DPIA (AVG art. 35) "
                  "and the pseudonymisation settings")
    if a.capture.direct_messages.answer in ("yes", "partial"):
        fg.append("direct messages are personal and may be confidential")
    if a.hosting.outside_eea in ("yes", "partial", TO_VERIFY):
        fg.append(f"data hosted or transferred outside the EEA ({a.hosting.outside_eea}: "
                  f"{a.hosting.where}): AVG chapter V")
    fg.append("the organisation's own posts and mentions can contain personal data too")
    out.append(Consult("privacy officer (functionaris gegevensbescherming, FG)", tuple(fg)))

    cio = ["API access, costs and the supplier relationship: " + "; ".join(
        f"{m.name}: {m.access}" for m in a.methods) if a.methods else
        "no known way to get the data out: the supplier must offer an API or export"]
    if a.terms.restricts_archiving in ("yes", "partial", TO_VERIFY):
        cio.append(f"the terms ({a.terms.restricts_archiving}) may restrict archiving, to read with legal counsel: "
                   f"{a.terms.note or a.terms.source or 'no note'}")
    if any(m.rate_limits == TO_VERIFY for m in a.methods):
        cio.append("rate limits are to verify: they decide how much of a busy thread can be captured")
    out.append(Consult("CIO office", tuple(cio)))

    arch = ["the archive service (archivaris, regionaal archief or Nationaal Archief) that takes over the "
            "B-records: whether the transfer format (MDTO, BagIt) and the captured context are enough"]
    out.append(Consult("archive service (archiefdienst)", tuple(arch)))

    peers = []
    if facts:
        peers.append(f"{len(facts)} fact(s) still to verify: others may already know")
    if "possible" not in (r1.status, r2.status):
        peers.append("neither route is possible as the facts stand: a shared position helps before deciding")
    peers.append("peers and professional bodies such as VORA, and the Strategisch Informatieoverleg (SIO) "
                 "of the organisation, for experience with the platform")
    out.append(Consult("VORA and other peer bodies; the organisation's SIO", tuple(peers)))
    return out


def blank(name: str) -> PlatformAssessment:
    """An assessment with every answer 'to verify': the questionnaire before it is filled in."""
    f = lambda: Fact(TO_VERIFY)   # noqa: E731
    return PlatformAssessment(
        name=name, checked=None, methods=[],
        capture=Capture(**{k: f() for k in CAPTURE}), reactions_can_be_switched_off=f(),
        terms=Terms(TO_VERIFY), hosting=Hosting(), duto=Duto(**{k: f() for k in DUTO}))

