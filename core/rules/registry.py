"""The four registries the rules run on: accounts, platform capabilities, selectielijst, hotspots.

Each is a YAML file read through archiefstroom.ground.settings.load_yaml, so a mistake
names file, line, field and what was expected. Cross-entry checks (duplicate
accounts, unknown organisations or categories) find the offending line
themselves. Loading also settles the *effective* route of every account: route 1
is only honoured on platforms where reactions can be switched off.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from archiefstroom.core.fields import check
from archiefstroom.core.platforms.assessment import AssessmentsFile, assess
from archiefstroom.core.retention import Category

log = logging.getLogger(__name__)

PLATFORMS = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky")
EVENT_TYPES = ("post", "reply", "repost", "quote", "edit", "delete", "reaction", "direct_message")
AUTHOR_ROLES = ("account", "government", "hybrid", "private", "citizen")
HARVEST_MAX_DAYS = 3660


def _tag(v: str) -> str:
    return v.strip().lstrip("#").casefold()


def _handle(v: str) -> str:
    return v.strip().lstrip("@").casefold()


# -- accounts -------------------------------------------------------------------

@dataclass
class Organisation:
    domains: list[str] = field(default_factory=list)   # links to these hosts "link the organisation" (rule 5)


@dataclass
class Account:
    platform: Literal["x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky"]
    id: Annotated[str, check(lambda v: bool(v.strip()), "a non-empty account id")]
    type: Literal["corporate", "hybrid", "private"] = "corporate"
    organisation: str | None = None
    handle: str | None = None
    key_function: bool = False
    route: Literal[1, 2, None] = None
    hashtags: list[str] = field(default_factory=list)   # hybrid accounts: the filter (rule 8)

    def validate(self):
        if self.type in ("corporate", "hybrid"):
            if not self.organisation:
                raise ValueError("organisation: expected the organisation of a corporate or hybrid account")
            if self.route is None:
                raise ValueError("route: expected 1 (one-way) or 2 (two-way) for a corporate or hybrid account")
        if self.type == "private" and (self.route is not None or self.hashtags or self.key_function):
            raise ValueError("type: expected no route, hashtags or key_function on a private account")
        if self.key_function and self.type != "corporate":
            raise ValueError("key_function: expected only on corporate accounts")
        if self.hashtags and self.type != "hybrid":
            raise ValueError("hashtags: expected a hashtag filter only on hybrid accounts")

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.id)

    @property
    def government(self) -> bool:
        return self.type in ("corporate", "hybrid")


@dataclass
class AccountsFile:
    organisations: dict[str, Organisation] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)


# -- platforms ------------------------------------------------------------------

@dataclass
class PlatformCapability:
    reactions_can_be_switched_off: bool
    harvest_reactions: bool = True
    harvest_edits: bool = True
    harvest_deletes: bool = True
    # harvest window (issue 17): days after the thread's root post during which reactions are
    # harvested, per account type; an account type not named here takes the file's default
    harvest_window_days: Annotated[
        dict[Literal["corporate", "hybrid"], int],
        check(lambda v: all(1 <= d <= HARVEST_MAX_DAYS for d in v.values()),
              "days between 1 and 3660 per account type"),
    ] = field(default_factory=dict)


@dataclass
class PlatformsFile:
    platforms: dict[str, PlatformCapability] = field(default_factory=dict)
    # the harvest window of every platform and account type not given per platform (issue 17)
    harvest_window_days: Annotated[int, check(lambda v: 1 <= v <= HARVEST_MAX_DAYS, "days between 1 and 3660")] = 30


# -- selectielijst ----------------------------------------------------------------

@dataclass
class Mapping:
    """One line of the choice table: every condition given must hold (empty = any); first match wins."""
    category: str
    account_type: list[Literal["corporate", "hybrid", "private"]] = field(default_factory=list)
    key_function: bool | None = None
    event_type: list[Literal["post", "reply", "repost", "quote", "edit", "delete", "reaction",
                             "direct_message"]] = field(default_factory=list)
    author: list[Literal["account", "government", "hybrid", "private", "citizen"]] = field(default_factory=list)
    burgerbrief: list[str] = field(default_factory=list)   # outcomes of the burgerbrief stage (issue 5)

    def matches(self, *, account_type: str, key_function: bool, event_type: str, author: str,
                burgerbrief: str | None) -> bool:
        return ((not self.account_type or account_type in self.account_type)
                and (self.key_function is None or self.key_function == key_function)
                and (not self.event_type or event_type in self.event_type)
                and (not self.author or author in self.author)
                and (not self.burgerbrief or burgerbrief in self.burgerbrief))


@dataclass
class Selectielijst:
    categories: dict[str, Category]
    default_category: str
    hotspot_category: str
    mapping: list[Mapping] = field(default_factory=list)
    # duck-typing for archiefstroom.core.retention.choose_category
    by_account_type: dict[str, str] = field(default_factory=dict)
    by_event_type: dict[str, str] = field(default_factory=dict)

    def validate(self):
        for name in ("default_category", "hotspot_category"):
            if getattr(self, name) not in self.categories:
                raise ValueError(f"{name}: expected a category code defined under categories "
                                 f"({', '.join(self.categories)})")
        if self.categories[self.hotspot_category].retention_class != "B":
            raise ValueError("hotspot_category: expected a B (bewaren) category: hotspot records are kept permanently")

    def choose(self, **facts) -> str:
        for m in self.mapping:
            if m.matches(**facts):
                return m.category
        return self.default_category


# -- hotspots -------------------------------------------------------------------

@dataclass
class Hotspot:
    name: Annotated[str, check(lambda v: bool(re.fullmatch(r"[A-Za-z0-9._\-]+", v)),
                               "a name of letters, digits, . _ -")]
    start: dt.date = dt.date.min
    end: dt.date = dt.date.max
    description: str = ""
    terms: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    accounts: Annotated[list[str], check(lambda v: all(":" in a for a in v),
                                         "accounts as 'platform:account id'")] = field(default_factory=list)

    def validate(self):
        if self.end < self.start:
            raise ValueError("end: expected a date on or after start")
        if not (self.terms or self.hashtags or self.accounts):
            raise ValueError("terms: expected at least one of terms, hashtags or accounts")

    def matches(self, event: dict) -> bool:
        day = event["created_at"].date()
        if not (self.start <= day <= self.end):
            return False
        if {_tag(h) for h in event.get("hashtags") or []} & {_tag(h) for h in self.hashtags}:
            return True
        who = {f"{event['platform']}:{event['account']['id']}", f"{event['platform']}:{event['author']['id']}"}
        if who & set(self.accounts):
            return True
        text = (event.get("text") or "").casefold()
        return any(re.search(r"(?<!\w)" + re.escape(t.casefold()) + r"(?!\w)", text) for t in self.terms)


@dataclass
class HotspotsFile:
    hotspots: list[Hotspot] = field(default_factory=list)


# -- the bundle -----------------------------------------------------------------

@dataclass
class Registry:
    """Everything the rules need to know about the world, validated and indexed."""
    accounts: AccountsFile
    platforms: PlatformsFile
    selectielijst: Selectielijst
    hotspots: HotspotsFile
    version: str = ""
    warnings: list[str] = field(default_factory=list)
    assessments: AssessmentsFile = field(default_factory=AssessmentsFile)   # issue 17: may a platform be used?
    _by_key: dict = field(default_factory=dict, repr=False)
    _by_handle: dict = field(default_factory=dict, repr=False)
    _route: dict = field(default_factory=dict, repr=False)
    _domains: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._domains = {d.casefold(): org for org, o in self.accounts.organisations.items() for d in o.domains}
        for a in self.accounts.accounts:
            self._by_key[a.key] = a
            for h in {a.id, a.handle or a.id}:
                self._by_handle[(a.platform, _handle(h))] = a
            self._route[a.key] = self._effective_route(a)

    def _effective_route(self, a: Account) -> int | None:
        if a.route != 1:
            return a.route
        cap = self.platforms.platforms.get(a.platform)
        if cap is None or not cap.reactions_can_be_switched_off:
            self.warnings.append(f"account {a.platform}:{a.id}: route 1 configured, but reactions cannot be "
                                 f"switched off on {a.platform}; route 2 applies")
            return 2
        return 1

    def account(self, platform: str, account_id: str) -> Account | None:
        return self._by_key.get((platform, account_id))

    def by_handle(self, platform: str, handle: str) -> Account | None:
        return self._by_handle.get((platform, _handle(handle)))

    def route(self, a: Account) -> int | None:
        return self._route.get(a.key)

    def domains(self) -> dict[str, str]:
        """host -> organisation."""
        return self._domains

    def harvest_window_days(self, platform: str, account_type: str | None) -> int:
        """Days after a thread's root post that its reactions are harvested (issue 17)."""
        cap = self.platforms.platforms.get(platform)
        given = cap.harvest_window_days.get(account_type) if cap is not None and account_type else None
        return given if given is not None else self.platforms.harvest_window_days


@dataclass(frozen=True)
class Problem:
    """A cross-entry mistake: which registry file, the YAML path to the offending node,
    the field as shown to the operator, what was expected (`{accounts}` and the like stand
    for the file of that registry) and what was found."""
    file: Literal["accounts", "platforms", "selectielijst", "hotspots", "assessments"]
    path: tuple
    field: str
    expected: str
    got: object = None


def problems(reg: Registry) -> list[Problem]:
    """Mistakes no single entry shows: duplicates, and names used but never defined."""
    out = []
    for name in reg.platforms.platforms:
        if name not in PLATFORMS:
            out.append(Problem("platforms", ("platforms", name), f"platforms.{name}",
                               f"a platform of schemas/social_event.avsc ({', '.join(PLATFORMS)})", name))
    seen: dict[tuple, int] = {}
    for i, a in enumerate(reg.accounts.accounts):
        if a.key in seen:
            out.append(Problem("accounts", ("accounts", i, "id"), f"accounts[{i}].id",
                               f"a unique platform+id (already at accounts[{seen[a.key]}])", a.id))
        seen.setdefault(a.key, i)
        if a.organisation and a.organisation not in reg.accounts.organisations:
            out.append(Problem("accounts", ("accounts", i, "organisation"), f"accounts[{i}].organisation",
                               f"an organisation listed under organisations ({', '.join(reg.accounts.organisations)})",
                               a.organisation))
        if a.platform not in reg.platforms.platforms:
            out.append(Problem("platforms", ("platforms",), f"platforms.{a.platform}",
                               f"capabilities of platform {a.platform!r}, used by accounts[{i}] in {{accounts}}"))
    sl = reg.selectielijst
    for i, m in enumerate(sl.mapping):
        if m.category not in sl.categories:
            out.append(Problem("selectielijst", ("mapping", i, "category"), f"mapping[{i}].category",
                               f"a category code defined under categories ({', '.join(sl.categories)})", m.category))
    names: set[str] = set()
    for i, h in enumerate(reg.hotspots.hotspots):
        if h.name in names:
            out.append(Problem("hotspots", ("hotspots", i, "name"), f"hotspots[{i}].name", "a unique hotspot name",
                               h.name))
        names.add(h.name)
    return out + assessment_problems(reg)


def _brace(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def assessment_problems(reg: Registry) -> list[Problem]:
    """Issue 17: an account whose route its platform's assessment says cannot be archived, and an
    assessment that contradicts platforms.yaml on switching reactions off. A platform without an
    assessment is not checked (candidate platforms may be assessed before any account uses them)."""
    out = []
    for name, a in reg.assessments.platforms.items():
        cap = reg.platforms.platforms.get(name)
        said = a.reactions_can_be_switched_off.answer
        if cap is not None and said in ("yes", "no") and (said == "yes") != cap.reactions_can_be_switched_off:
            out.append(Problem("assessments", ("platforms", name, "reactions_can_be_switched_off"),
                               f"platforms.{name}.reactions_can_be_switched_off",
                               f"the same answer as {{platforms}} (reactions_can_be_switched_off: "
                               f"{str(cap.reactions_can_be_switched_off).lower()})", said))
    verdicts = {name: assess(a) for name, a in reg.assessments.platforms.items()}
    for i, acc in enumerate(reg.accounts.accounts):
        route = reg.route(acc)
        if route is None or acc.platform not in verdicts:
            continue
        v = verdicts[acc.platform].route(route)
        if v.status == "not possible":
            out.append(Problem("accounts", ("accounts", i, "route"), f"accounts[{i}].route",
                               f"a route its platform can be archived on: account {acc.platform}:{acc.id} on route "
                               f"{route}, but {{assessments}} says {acc.platform} route {route} is not possible: "
                               + _brace("; ".join(v.reasons)), acc.route))
    return out


def unverified_routes(reg: Registry) -> list[str]:
    """Accounts whose route their platform's assessment leaves 'to verify': a warning, not a refusal."""
    out = []
    for acc in reg.accounts.accounts:
        a = reg.assessments.platforms.get(acc.platform)
        route = reg.route(acc)
        if a is not None and route is not None:
            v = assess(a).route(route)
            if v.status == "to verify":
                out.append(f"account {acc.platform}:{acc.id}: route {route} is to verify in the platform "
                           f"assessment ({'; '.join(v.reasons)})")
    return out


def government_ids(reg: Registry) -> frozenset[str]:
    """Lower-cased ids and handles (without '@') of the government (corporate, hybrid) accounts:
    their own words stay readable in the archive and are never scored as a citizen's."""
    return frozenset(x.lstrip("@").lower() for a in reg.accounts.accounts if a.government
                     for x in (a.id, a.handle) if x)


def replace_accounts(reg: Registry, accounts: list[Account]) -> Registry:
    return Registry(dataclasses.replace(reg.accounts, accounts=accounts), reg.platforms, reg.selectielijst,
                    reg.hotspots, reg.version, assessments=reg.assessments)
