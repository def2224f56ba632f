"""The ten archiving rules as data, and the engine that runs them over one event.

Each rule is a named `Rule` with a check over the event's `Facts` (what the
registries say about the account, the author, the route and the thread). A
check returns None (not applicable), an annotation (flags, links: evaluation
goes on) or a decision (archive, drop, hold for a government reaction, or wait
for the thread's root). Rules run in order and the first decision wins; every
evaluated rule lands in the decision trace with the inputs that mattered.
Inputs never name private persons: authors appear by role, never by id.

Holding (rules 5 and 7) and thread-dependent choices (rule 8 reactions) need
state across events; that is core/rules/holds.py, driven by a keyed Beam DoFn. So does
rule 10's link to the previous version of an edited object: core/rules/versions.py.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Literal
from urllib.parse import urlparse

from archiefstroom.core import retention as retention_core
from archiefstroom.core.envelope import thread_key
from archiefstroom.core.rules.registry import Account, Registry, _tag

Action = Literal["archive", "drop", "hold", "await_root"]
GOVERNMENT_AUTHORS = ("account", "government")
PRIVATE_AUTHORS = ("private", "citizen")


@dataclass(frozen=True)
class Facts:
    platform: str
    event_type: str
    account: Account | None          # the monitored account the event was captured from
    route: int | None                # effective route (route 1 only where reactions can be switched off)
    author_role: str                 # account | government | hybrid | private | citizen
    author_org: str | None
    thread: str                      # object_id of the thread's root: the state key
    is_root: bool
    mentioned_orgs: tuple[str, ...]  # organisations mentioned or linked (rule 5)
    referenced_role: str | None      # role of a reposted/quoted message's author
    referenced_org: str | None
    filter_hits: tuple[str, ...]     # hybrid-account filter hashtags on the event


def _role(reg: Registry, platform: str, account: Account | None, actor: dict | None) -> tuple[str, str | None]:
    if not actor:
        return "citizen", None
    known = reg.account(platform, actor.get("id") or "") or (
        reg.by_handle(platform, actor["handle"]) if actor.get("handle") else None)
    if known is not None and account is not None and known.key == account.key:
        return ("private" if known.type == "private" else "account"), known.organisation
    if known is None:
        return "citizen", None
    return {"corporate": "government", "hybrid": "hybrid", "private": "private"}[known.type], known.organisation


def _mentioned(reg: Registry, event: dict) -> tuple[str, ...]:
    orgs = set()
    for m in event.get("mentions") or []:
        a = reg.by_handle(event["platform"], m)
        if a is not None and a.type == "corporate" and a.organisation:
            orgs.add(a.organisation)
    domains = reg.domains()
    for url in event.get("urls") or []:
        host = (urlparse(url if "//" in url else f"//{url}").hostname or "").casefold()
        for d, org in domains.items():
            if host == d or host.endswith("." + d):
                orgs.add(org)
    return tuple(sorted(orgs))


def facts_of(event: dict, reg: Registry) -> Facts:
    platform = event["platform"]
    account = reg.account(platform, event["account"]["id"])
    role, org = _role(reg, platform, account, event.get("author"))
    ref = event.get("referenced") or None
    ref_role, ref_org = _role(reg, platform, account, ref.get("author")) if ref else (None, None)
    hits = ()
    if account is not None and account.type == "hybrid":
        wanted = {_tag(h) for h in account.hashtags}
        hits = tuple(sorted({_tag(h) for h in event.get("hashtags") or []} & wanted))
    key = thread_key(event)
    return Facts(platform=platform, event_type=event["event_type"], account=account,
                 route=reg.route(account) if account else None, author_role=role, author_org=org,
                 thread=key, is_root=key == event["object_id"], mentioned_orgs=_mentioned(reg, event),
                 referenced_role=ref_role, referenced_org=ref_org, filter_hits=hits)


@dataclass
class Effect:
    """What a rule says. `action` None = annotate only, evaluation continues."""
    outcome: str
    action: Action | None = None
    inputs: dict = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    disclaimer: str | None = None
    publishable: bool | None = None
    supersedes: str | None = None
    organisations: tuple[str, ...] = ()   # hold: who must react
    misconfigured: bool = False


@dataclass(frozen=True)
class Rule:
    id: str            # stable name used in traces, reasons and metrics
    number: int        # issue 4 numbering (0 = the registry gate)
    summary: str       # what it says, one line
    question: str      # the question in the team's flow chart (Dutch)
    check: Callable[["Facts", dict, object], Effect | None]
    yes: str = ""      # what follows when it applies, for the flow chart (Dutch)
    annotates: bool = False  # adds flags/links and evaluation goes on (no decision of its own)


def _account_inputs(f: Facts) -> dict:
    a = f.account
    if a is None or a.type == "private":
        return {"account": "unregistered" if a is None else "private"}
    return {"account": f"{a.platform}:{a.id}", "account_type": a.type, "route": str(f.route)}


def _r0(f: Facts, ev, s):
    if f.account is None:
        return Effect("not in account registry", "drop", {"platform": f.platform})
    if f.account.type == "private":
        return Effect("private account", "drop", {"account_type": "private"})
    return None


def _r9(f: Facts, ev, s):
    if f.event_type == "direct_message":
        return Effect("direct message out of scope", "drop", {"event_type": f.event_type})
    return None


def _r2(f: Facts, ev, s):
    if f.event_type == "reaction":
        return Effect("sentiment button is not a reaction", "drop",
                      {"reaction_kind": str(ev.get("reaction_kind") or "unknown")})
    return None


def _r10(f: Facts, ev, s):
    if f.event_type == "edit":
        return Effect("new version", inputs={"event_type": "edit"}, flags=("version",),
                      supersedes=ev["object_id"])
    if f.event_type == "delete":
        return Effect("tombstone", inputs={"event_type": "delete"}, flags=("tombstone",),
                      supersedes=ev["object_id"])
    return None


def _r6(f: Facts, ev, s):
    if f.event_type in ("repost", "quote") and f.author_role in GOVERNMENT_AUTHORS and ev.get("referenced") \
            and f.referenced_role not in GOVERNMENT_AUTHORS:
        return Effect("third-party content", inputs={"event_type": f.event_type, "referenced_author": str(f.referenced_role)},
                      flags=("third_party_content", "may_contain_personal_data", "not_publishable_without_review"),
                      disclaimer=s.disclaimer, publishable=False)
    return None


def _is_reaction(f: Facts, ev) -> bool:
    """A reply in a thread, or a version of one; a citizen's own top-level post is not a reaction."""
    return f.event_type in ("reply", "edit", "delete") or bool(ev.get("in_reply_to") or ev.get("thread_root"))


def _r8(f: Facts, ev, s):
    a = f.account
    if a.type != "hybrid":
        return None
    inputs = {"account": f"{a.platform}:{a.id}", "account_type": "hybrid",
              "filter": ",".join(sorted(_tag(h) for h in a.hashtags)) or "none"}
    if not a.hashtags:
        return Effect("hybrid account without filter not harvested", "drop", inputs)
    if f.author_role == "account":
        if f.filter_hits:
            return Effect("carries filter hashtag", "archive", {**inputs, "matched": ",".join(f.filter_hits)})
        if f.event_type in ("edit", "delete") or not f.is_root:
            return Effect("follows the thread's root post", "await_root", inputs)
        return Effect("no filter hashtag", "drop", inputs)
    if f.route == 2 and _is_reaction(f, ev):
        return Effect("reaction: follows its root post's filter", "await_root", inputs)
    if f.route == 2:
        return Effect("not a reaction under a filtered post", "drop", inputs)
    return None


def _r7(f: Facts, ev, s):
    if f.event_type in ("repost", "quote") and f.author_role in PRIVATE_AUTHORS \
            and f.referenced_role in GOVERNMENT_AUTHORS:
        org = f.referenced_org or (f.account.organisation if f.account else None)
        return Effect("private repost of a government post: held for a government reaction", "hold",
                      {"event_type": f.event_type, "author": f.author_role, "organisation": str(org)},
                      organisations=(org,) if org else ())
    return None


def _r5(f: Facts, ev, s):
    if f.author_role in PRIVATE_AUTHORS and f.event_type == "post" and not ev.get("in_reply_to") \
            and f.mentioned_orgs:
        return Effect("citizen post mentions an organisation: held for its reaction", "hold",
                      {"author": f.author_role, "organisations": ",".join(f.mentioned_orgs)},
                      organisations=f.mentioned_orgs)
    return None


def _r1(f: Facts, ev, s):
    if f.author_role in GOVERNMENT_AUTHORS:
        return Effect("by a corporate account", "archive",
                      {**_account_inputs(f), "author": f.author_role, "event_type": f.event_type})
    return None


def _r3(f: Facts, ev, s):
    if f.route == 1 and _is_reaction(f, ev):
        return Effect("reaction on a route-1 account", "drop", {**_account_inputs(f), "author": f.author_role},
                      misconfigured=True)
    return None


def _r4(f: Facts, ev, s):
    if f.route == 2 and _is_reaction(f, ev):
        return Effect("reaction on a route-2 account", "archive",
                      {**_account_inputs(f), "author": f.author_role, "event_type": f.event_type})
    return None


RULES: tuple[Rule, ...] = (
    Rule("R0-registry", 0, "Only accounts in the account registry are harvested; private accounts never.",
         "Is het account onbekend of privé?", _r0,
         yes='niet veiligstellen (geteld)'),
    Rule("R9-direct-message", 9, "Direct messages are out of scope: never archived, counted.",
         "Is het een privébericht (DM)?", _r9,
         yes='niet archiveren (geteld)'),
    Rule("R2-sentiment", 2, "Likes and other sentiment buttons are not reactions: not archived.",
         "Is het een like of andere sentimentknop?", _r2,
         yes='niet archiveren; aantallen tellen'),
    Rule("R10-versions", 10, "An edit is a new version linked to the previous one; a delete a tombstone linked "
         "to the original; nothing archived is removed.",
         "Is het een bewerking of verwijdering?", _r10,
         yes='nieuwe versie gekoppeld aan de vorige / tombstone gekoppeld aan het origineel; niets verwijderen',
         annotates=True),
    Rule("R6-government-repost", 6, "A government repost of third-party content is archived with that content, "
         "flagged, with a disclaimer, not publishable without review.",
         "Deelt de overheid een bericht van een derde?", _r6,
         yes='archiveren mét inhoud derde, disclaimer, niet openbaar zonder toets', annotates=True),
    Rule("R8-hybrid", 8, "Hybrid accounts are not harvested, unless a hashtag filter is set: then posts with "
         "the hashtag (and on route 2 their reactions).", "Is het een hybride account (met hashtagfilter)?", _r8,
         yes='zonder filter: niet; met filter: berichten met de hashtag (en reacties bij route 2)'),
    Rule("R7-private-repost", 7, "A private repost of a government post is not archived; a government reaction "
         "to it is, with the repost as context.", "Deelt een burger een overheidsbericht?", _r7,
         yes='vasthouden; archiveren als context als de overheid reageert'),
    Rule("R5-citizen-mention", 5, "A citizen post mentioning or linking an organisation is archived only if that "
         "organisation reacts within the hold window (then both are).",
         "Noemt een burger de organisatie in een eigen bericht?", _r5,
         yes='vasthouden; archiveren (met reactie) als de organisatie reageert, anders vervalt'),
    Rule("R1-corporate-post", 1, "A post by a corporate account is archived.",
         "Is het een bericht van een corporate account?", _r1,
         yes='archiveren'),
    Rule("R3-route-1", 3, "Route 1 (one-way): only posts; reactions are not archived and the account is "
         "reported as misconfigured.", "Route 1 (eenrichtingsverkeer)?", _r3,
         yes='reactie niet archiveren; account melden als verkeerd ingesteld'),
    Rule("R4-route-2", 4, "Route 2 (two-way): the post and all reactions under it are archived.",
         "Route 2 (interactie)?", _r4,
         yes='archiveren (reacties en reacties op reacties)'),
)
RULE_IDS = tuple(r.id for r in RULES)
NO_RULE = "R0-no-rule"


@dataclass
class Verdict:
    action: Action
    rule: str                 # the deciding rule
    outcome: str
    facts: Facts
    trace: list[dict]
    decision: dict            # schemas/decision.avsc datum
    retention: retention_core.RetentionDecision | None
    organisations: tuple[str, ...] = ()
    misconfigured: bool = False
    detail: dict = field(default_factory=dict)  # non-personal inputs for a Disposition

    @property
    def reason(self) -> str:
        return f"{self.rule}: {self.outcome}"

    @property
    def via_thread(self) -> bool:
        """Needs the thread's state: holds, root-dependent choices, hybrid roots, and government
        reactions inside threads (they may release a hold)."""
        f = self.facts
        if self.action in ("hold", "await_root"):
            return True
        if f.account is not None and f.account.type == "hybrid" and f.author_role == "account" and f.is_root \
                and self.rule == "R8-hybrid":
            return True
        return self.action == "archive" and f.author_role in GOVERNMENT_AUTHORS and not f.is_root


def _str_map(d: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in d.items()}


def choose_retention(reg: Registry, event: dict, facts: Facts, burgerbrief: str | None = None
                     ) -> retention_core.RetentionDecision:
    """Selectielijst category by account type, key function, event type, author and burgerbrief
    outcome; a hotspot makes it B."""
    acct = facts.account
    account_type = acct.type if acct else "unregistered"
    code = reg.selectielijst.choose(account_type=account_type, key_function=bool(acct and acct.key_function),
                                    event_type=event["event_type"], author=facts.author_role,
                                    burgerbrief=burgerbrief)
    hotspot = next((h.name for h in reg.hotspots.hotspots if h.matches(event)), None)
    return retention_core.decide(reg.selectielijst, created=event["created_at"], account_type=account_type,
                                 event_type=event["event_type"], category=code, hotspot=hotspot,
                                 hotspot_category=reg.selectielijst.hotspot_category)


def evaluate(event: dict, reg: Registry, settings) -> Verdict:
    """Run the rules over one SocialEvent datum (pure; `settings` is RulesSettings)."""
    facts = facts_of(event, reg)
    trace: list[dict] = []
    flags: list[str] = []
    disclaimer, publishable, supersedes = None, True, None
    decided: tuple[Rule, Effect] | None = None
    for rule in RULES:
        eff = rule.check(facts, event, settings)
        if eff is None:
            trace.append({"rule": rule.id, "fired": False, "outcome": None, "inputs": {}})
            continue
        trace.append({"rule": rule.id, "fired": True, "outcome": eff.outcome, "inputs": _str_map(eff.inputs)})
        flags += [x for x in eff.flags if x not in flags]
        disclaimer = eff.disclaimer or disclaimer
        publishable = publishable if eff.publishable is None else eff.publishable
        supersedes = eff.supersedes or supersedes
        if eff.action:
            decided = (rule, eff)
            break
    if decided is None:
        eff = Effect("no rule archives this event", "drop", {"event_type": facts.event_type,
                                                             "author": facts.author_role})
        trace.append({"rule": NO_RULE, "fired": True, "outcome": eff.outcome, "inputs": _str_map(eff.inputs)})
        rule_id = NO_RULE
    else:
        rule_id, eff = decided[0].id, decided[1]
    acct = facts.account
    decision = {"rules": trace, "route": facts.route,
                "organisation": acct.organisation if acct and acct.type != "private" else None,
                "flags": flags, "disclaimer": disclaimer, "publishable": publishable, "supersedes": supersedes,
                # rule 10 without state: linked to the original; LinkVersions places it in the chain
                "original": supersedes, "version": None,
                "context": [], "registry_version": reg.version or None}
    ret = choose_retention(reg, event, facts) if eff.action != "drop" else None
    detail = {"rule": rule_id, **_str_map(eff.inputs), "event_type": facts.event_type}
    return Verdict(eff.action, rule_id, eff.outcome, facts, trace, decision, ret,
                   organisations=eff.organisations, misconfigured=eff.misconfigured, detail=detail)


def apply(record: dict, verdict: Verdict) -> dict:
    """The record with its decision and retention filled (for archive/hold verdicts)."""
    out = {**record, "decision": verdict.decision}
    if verdict.retention is not None:
        out["retention"] = verdict.retention.datum()
    return out


def utc(ts: dt.datetime) -> dt.datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)


def retention_for(reg: Registry, record: dict, *, burgerbrief: str | None = None) -> dict:
    """Retention datum for an archived record, re-chosen with a burgerbrief outcome (issue 5):
    the selectielijst may map `burgerbrief: [...]` outcomes to their own category."""
    event = record["event"]
    return choose_retention(reg, event, facts_of(event, reg), burgerbrief).datum()
