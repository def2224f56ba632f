"""The monthly compliance report, the pure part: counts per organisation and account, rule
outcomes, what was not archived, coverage gaps, holds.

No I/O: duties/report.py reads the catalog, the ledgers' dates, the register and S3's legal
holds and hands plain values here, so every figure can be checked against a hand count.

Coverage gap: a whole UTC day in the period (up to the day the report is made) on which the
archive holds no record created that day for an account that is registered (corporate or
hybrid) or was captured in the period; per platform also the days on which none of its accounts
has one. A gap is a question for the records manager (connector down? a quiet Sunday?), not a
verdict.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

NOT_ATTRIBUTED = "(niet toe te wijzen)"    # a dead letter cannot be read, so not tied to an account
UNKNOWN_ACCOUNT = "(account onbekend)"     # the organisation is known, the account is not
ALL_ACCOUNTS = "(alle accounts)"
CAPTURED_TYPES = ("post", "reply", "repost", "quote", "edit", "delete")
OUTCOME_KINDS = ("dead_letter", "quarantine", "dropped", "held", "duplicate")


def parse_date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from None


def parse_period(start: str, end: str) -> tuple[dt.date, dt.date]:
    """--from and --to as dates, both whole UTC days and inclusive, as the catalog's search has them."""
    lo, hi = parse_date(start, "--from"), parse_date(end, "--to")
    if hi < lo:
        raise ValueError(f"--to ({hi}) is before --from ({lo})")
    return lo, hi


def day_of(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).date()


def gaps(captured: set[dt.date], start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Runs of consecutive days from `start` to `end` (inclusive) that are not in `captured`."""
    out: list[tuple[dt.date, dt.date]] = []
    day, run = start, None
    while day <= end:
        if day in captured:
            if run:
                out.append((run, day - dt.timedelta(days=1)))
                run = None
        elif run is None:
            run = day
        day += dt.timedelta(days=1)
    if run:
        out.append((run, end))
    return out


@dataclass(frozen=True)
class Capture:
    """What the report needs of one archived record version."""
    organisation: str | None
    account: str                 # handle (or id)
    platform: str
    event_type: str
    created_at: int              # epoch ms
    record_version: int
    object_key: str
    rules: tuple[tuple[str, str], ...] = ()    # (rule id, outcome) of every rule that fired


@dataclass(frozen=True)
class RegisteredAccount:
    organisation: str
    account: str
    platform: str
    type: str                    # corporate | hybrid (a hybrid account is filtered: gaps expected)


@dataclass(frozen=True)
class Outcome:
    """A fate that is not an archived record (ledger entry), attributed as far as it goes."""
    kind: str
    reason: str
    rule: str | None
    organisation: str | None
    account: str | None
    platform: str | None
    day: dt.date                 # the day its batch was processed (its ledger's date)


def outcome_object_id(event_id: str | None, detail: dict) -> str | None:
    """The content item an outcome is about: its event id without the edit/delete/reaction tail,
    or the hold's key (a thread's root)."""
    if event_id:
        for tail in (":reaction:", ":edit:"):
            event_id = event_id.split(tail)[0]
        return event_id.removesuffix(":delete")
    return detail.get("hold_key")


def attribute(kind: str, reason: str | None, event_id: str | None, detail: dict, day: dt.date,
              accounts: dict[tuple[str, str], tuple[str, str]],
              objects: dict[str, tuple[str | None, str, str]]) -> Outcome:
    """Tie an outcome to an organisation and account: the account its rule named
    (`detail.account`, "platform:id", looked up in `accounts`: (platform, id) -> (organisation,
    handle)), else the account of its item or thread in the archive (`objects`: object id ->
    (organisation, handle, platform)), else the one organisation it was held for, else only its
    platform; a dead letter is not readable, so not attributed."""
    rule = detail.get("rule") or (reason.split(":")[0] if reason and reason.startswith("R") else None)
    oid = outcome_object_id(event_id, detail)
    platform = oid.split(":")[0] if oid and ":" in oid else None
    if detail.get("account") and ":" in detail["account"]:
        p, ident = detail["account"].split(":", 1)
        if (p, ident) in accounts:
            org, handle = accounts[(p, ident)]
            return Outcome(kind, reason or "", rule, org, handle, p, day)
    for key in (oid, detail.get("hold_key")):
        if key and key in objects:
            org, handle, p = objects[key]
            return Outcome(kind, reason or "", rule, org, handle, p, day)
    orgs = detail.get("organisations") or []
    if len(orgs) == 1:
        return Outcome(kind, reason or "", rule, orgs[0], None, platform, day)
    return Outcome(kind, reason or "", rule, None, None, platform, day)


@dataclass
class Hold:
    kind: str                    # "Woo-verzoek" | "legal hold (S3)"
    name: str                    # request id, or the object key
    since: str | None
    objects: set[str] = field(default_factory=set)


@dataclass
class Report:
    start: dt.date
    end: dt.date
    made: dt.date
    captured: list[list]         # CAPTURED_HEADER
    not_archived: list[list]     # OUTCOMES_HEADER
    reasons: list[list]          # REASONS_HEADER
    rules: list[list]            # RULES_HEADER
    gaps: list[list]             # GAPS_HEADER
    holds: list[list]            # HOLDS_HEADER
    held_records: list[list]     # HELD_HEADER
    totals: dict[str, int]


CAPTURED_HEADER = ["organisatie", "account", "platform", "records", *CAPTURED_TYPES, "webcare-versies"]
OUTCOMES_HEADER = ["organisatie", "account", "platform", *OUTCOME_KINDS]
REASONS_HEADER = ["soort", "reden", "aantal"]
RULES_HEADER = ["organisatie", "account", "platform", "regel", "uitkomst", "soort", "aantal"]
GAPS_HEADER = ["platform", "account", "organisatie", "van", "tot en met", "dagen", "opmerking"]
HOLDS_HEADER = ["soort", "kenmerk", "sinds", "objecten", "records in de periode"]
HELD_HEADER = ["organisatie", "account", "platform", "records", "onder legal hold", "onder Woo-hold"]


def _name(v: str | None, default: str) -> str:
    return v if v else default


def build(start: dt.date, end: dt.date, made: dt.date, captures: list[Capture], outcomes: list[Outcome],
          registered: list[RegisteredAccount], holds: list[Hold]) -> Report:
    """The report's tables. `captures`: the record versions created in the period (every
    version); `outcomes`: the other fates, dated by their batch (only those in the period count);
    `holds`: open Woo requests and the objects under a legal hold."""
    def key(c) -> tuple[str, str, str]:
        return (_name(c.organisation, NOT_ATTRIBUTED), c.account, c.platform)

    per: dict[tuple, Counter] = defaultdict(Counter)
    for c in captures:
        k = key(c)
        per[k]["records"] += 1
        per[k][c.event_type] += 1
        if c.record_version > 1:
            per[k]["webcare-versies"] += 1
    captured = [[*k, per[k]["records"], *(per[k][t] for t in CAPTURED_TYPES), per[k]["webcare-versies"]]
                for k in sorted(per)]

    kept = [o for o in outcomes if start <= o.day <= end]
    fates: dict[tuple, Counter] = defaultdict(Counter)
    for o in kept:
        org = o.organisation or NOT_ATTRIBUTED
        acct = o.account or (UNKNOWN_ACCOUNT if o.organisation else NOT_ATTRIBUTED)
        fates[(org, acct, o.platform or NOT_ATTRIBUTED)][o.kind] += 1
    not_archived = [[*k, *(fates[k][kind] for kind in OUTCOME_KINDS)] for k in sorted(fates)]
    reasons = Counter((o.kind, o.reason) for o in kept if o.kind in ("dead_letter", "quarantine"))
    reason_rows = [[kind, reason, n] for (kind, reason), n in sorted(reasons.items())]

    rules: Counter = Counter()
    for c in captures:
        for rule, outcome in c.rules:
            rules[(_name(c.organisation, NOT_ATTRIBUTED), c.account, c.platform, rule, outcome, "archived")] += 1
    for o in kept:
        if o.rule and o.kind in ("dropped", "held"):
            outcome = o.reason.split(": ", 1)[1] if ": " in o.reason else o.reason
            org = o.organisation or NOT_ATTRIBUTED
            acct = o.account or (UNKNOWN_ACCOUNT if o.organisation else NOT_ATTRIBUTED)
            rules[(org, acct, o.platform or NOT_ATTRIBUTED, o.rule, outcome, o.kind)] += 1
    rule_rows = [[*k, n] for k, n in sorted(rules.items())]

    last = min(end, made)
    days: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
    org_of: dict[tuple[str, str], str] = {}
    hybrid: set[tuple[str, str]] = set()
    for a in registered:
        days[(a.platform, a.account)]
        org_of[(a.platform, a.account)] = a.organisation
        if a.type == "hybrid":
            hybrid.add((a.platform, a.account))
    for c in captures:
        days[(c.platform, c.account)].add(day_of(c.created_at))
        org_of.setdefault((c.platform, c.account), _name(c.organisation, NOT_ATTRIBUTED))
    gap_rows = []
    for platform in sorted({p for p, _ in days}):
        on = set().union(*(d for (p, _), d in days.items() if p == platform))
        for lo, hi in gaps(on, start, last):
            gap_rows.append([platform, ALL_ACCOUNTS, "", lo.isoformat(), hi.isoformat(), (hi - lo).days + 1,
                             "geen enkel account van dit platform vastgelegd"])
        for (p, acct) in sorted(k for k in days if k[0] == platform):
            note = "gefilterd account (hashtagfilter): gaten verwacht" if (p, acct) in hybrid else ""
            for lo, hi in gaps(days[(p, acct)], start, last):
                gap_rows.append([p, acct, org_of[(p, acct)], lo.isoformat(), hi.isoformat(), (hi - lo).days + 1,
                                 note])

    in_period = Counter(c.object_key for c in captures)
    hold_rows = [[h.kind, h.name, h.since or "", len(h.objects), sum(in_period[o] for o in h.objects)]
                 for h in holds]
    legal = set().union(*(h.objects for h in holds if h.kind != "Woo-verzoek")) if holds else set()
    woo = set().union(*(h.objects for h in holds if h.kind == "Woo-verzoek")) if holds else set()
    held: dict[tuple, Counter] = defaultdict(Counter)
    for c in captures:
        k = key(c)
        held[k]["records"] += 1
        held[k]["legal"] += c.object_key in legal
        held[k]["woo"] += c.object_key in woo
    held_rows = [[*k, held[k]["records"], held[k]["legal"], held[k]["woo"]] for k in sorted(held)]

    totals = {"records": len(captures), **{t: sum(1 for c in captures if c.event_type == t) for t in CAPTURED_TYPES},
              **{kind: sum(1 for o in kept if o.kind == kind) for kind in OUTCOME_KINDS},
              "gap_rows": len(gap_rows), "open_woo_requests": sum(1 for h in holds if h.kind == "Woo-verzoek"),
              "records_on_legal_hold": sum(1 for c in captures if c.object_key in legal),
              "records_on_woo_hold": sum(1 for c in captures if c.object_key in woo)}
    return Report(start, end, made, captured, not_archived, reason_rows, rule_rows, gap_rows, hold_rows, held_rows,
                  totals)
