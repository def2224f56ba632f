"""Pseudonymising one archive record (a dict shaped like schemas/archive_record.avsc).

Schema-driven: every string in the event gets a treatment from FIELD_TREATMENT by
its path ("author.display_name", "media[].alt_text", ...); any path not listed -
including fields added to the schema later - gets the safety net "known": exact
occurrences of the private identities found in this record are replaced. After
the pass, `verify` checks that none of those identities is left anywhere in the
record; if one is, the caller must quarantine the record (fail closed).

Private persons are authors/mentions that are not public accounts: the monitored
account itself, the government accounts of the account registry and configured
public accounts stay readable, like officials named in their public role.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from archiefstroom.core.pseudonymise import recognizers
from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.entities import Entity, resolve
from archiefstroom.core.pseudonymise.keys import KeyRing
from archiefstroom.core.pseudonymise.pseudonymiser import replace_spans

ACTOR_FIELDS = {"id": "ACCOUNT", "handle": "ACCOUNT", "display_name": "PERSOON", "profile_url": "URL",
                "avatar_url": "URL"}

# path in the SocialEvent -> treatment
#   actor   the field of a person (author, referenced.author): token when the person is private
#   mention a handle in `mentions`: token when not a public account
#   text    free text: full detection (recognizers + deduce) plus the record's known identities
#   url     a URL: profile-URL recognizer plus known identities
#   keep    no personal data by construction (enums, hashes, connector names, timestamps)
#   raw     the platform payload: see RAW policy
#   known   (default) replace known identities only
FIELD_TREATMENT = {
    **{f"author.{f}": "actor" for f in ACTOR_FIELDS},
    **{f"referenced.author.{f}": "actor" for f in ACTOR_FIELDS},
    "mentions[]": "mention",
    "text": "text", "referenced.text": "text", "media[].alt_text": "text",
    "urls[]": "url", "url": "url", "referenced.url": "url", "media[].url": "url",
    "platform": "keep", "event_type": "keep", "language": "keep", "raw.sha256": "keep", "raw.content_type": "keep",
    "connector.name": "keep", "connector.version": "keep", "media[].media_type": "keep", "reaction_kind": "keep",
    "account.id": "keep", "account.handle": "keep", "account.display_name": "keep",
    "raw.payload": "raw",
}

# keys in a raw platform payload whose string values are free text (full detection)
_RAW_TEXT_KEYS = re.compile(r"(?i)^(?:text|full_text|message|content|body|description|caption|alt|alt_text|"
                            r"alttext|note|bio|title|name|display_name|displayname|story|comment|summary|"
                            r"location|spoiler_text)$")


class NotPseudonymisable(ValueError):
    """The record cannot be pseudonymised safely. The message holds no personal data."""


@dataclass
class RecordResult:
    record: dict
    mappings: dict[str, tuple[str, str]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    raw_original: str | None = None


@dataclass
class _RecordState:
    """What one `apply` call knows about its record. Passed along, not kept on the pseudonymiser: one
    RecordPseudonymiser serves all threads of a worker (transforms/pseudonymise.py)."""
    event: dict
    res: RecordResult
    known: dict[str, str]                 # private identity value -> label
    known_low: list[tuple[str, str]]      # the same lower-cased, longest first (for span search)
    public_names: set[str]                # casefolded display names of public actors
    keep_handle: Callable[[str], bool]    # is this handle public (for the recognizers)
    memo: dict[tuple[str, bool, bool], str] = field(default_factory=dict)
    public_actor: dict[str, bool] = field(default_factory=dict)   # "author", "referenced.author" -> public?
    known_by_low: dict[str, str] = field(default_factory=dict)    # lower-cased identity -> its first spelling

    def __post_init__(self):
        for k in self.known:
            self.known_by_low.setdefault(k.lower(), k)


def _norm_handle(h: str | None) -> str:
    return (h or "").strip().lstrip("@").lower()


class RecordPseudonymiser:
    def __init__(self, detector: Detector, ring: KeyRing, *, public_accounts: set[str] = frozenset(),
                 raw_policy: str = "pseudonymise", method: str = ""):
        self.detector, self.ring = detector, ring
        self.public_accounts = {_norm_handle(a) for a in public_accounts}
        self.raw_policy = raw_policy
        self.method = method or f"hmac-sha256/{detector.mode}"

    # -------------------------------------------------------------- who is private
    def is_public(self, actor: dict | None, event: dict) -> bool:
        if not actor:
            return True
        ids = {_norm_handle(actor.get("id")), _norm_handle(actor.get("handle"))} - {""}
        acct = event.get("account") or {}
        own = {_norm_handle(acct.get("id")), _norm_handle(acct.get("handle"))} - {""}
        # the office-holder registry's handles count too; the organisation-name rule for handles only applies to
        # mentions (an author is private unless listed: its name and id would otherwise stay readable)
        return bool(ids & (self.public_accounts | own | self.detector.figures.handles))

    def handle_public(self, handle: str, event: dict) -> bool:
        h = _norm_handle(handle)
        acct = event.get("account") or {}
        return h in self.public_accounts or h.split("@")[0] in self.public_accounts or \
            h in {_norm_handle(acct.get("id")), _norm_handle(acct.get("handle"))} or \
            self.detector.figures.handle(handle.strip())

    # -------------------------------------------------------------- the pass
    def apply(self, record: dict) -> RecordResult:
        """The record with its event and stage sub-records pseudonymised; raises NotPseudonymisable when a
        private identity would survive (the caller quarantines the record)."""
        event = record.get("event")
        if not isinstance(event, dict):
            raise NotPseudonymisable("record has no event")
        known, public_names, public_actor = self._private_authors(event)
        known.update(self._private_mentions(event))
        known_low = sorted(((v.lower(), lab) for v, lab in known.items() if len(v.strip()) >= 2),
                           key=lambda x: -len(x[0]))
        state = _RecordState(event, RecordResult(record), known, known_low, public_names,
                             functools.partial(self.handle_public, event=event), public_actor=public_actor)
        new_event = self._pseudonymise_field(state, event, "")
        _rehash_raw_payload(event, new_event)
        out = {**record, "event": new_event, **self._pseudonymise_stage_records(state, record)}
        state.res.record = out
        verify(out, known_low)
        return state.res

    def _private_authors(self, event: dict) -> tuple[dict[str, str], set[str], dict[str, bool]]:
        """The identities of the private authors (value -> label), to be replaced wherever they occur,
        the casefolded display names of the public ones (such a name in a text is not a private person),
        and per actor path whether its actor is public (what every field of that actor asks)."""
        known: dict[str, str] = {}
        public_names: set[str] = set()
        public_actor: dict[str, bool] = {}
        acct = event.get("account") or {}
        if acct.get("display_name"):
            public_names.add(acct["display_name"].casefold())
        for path in ("author", "referenced.author"):
            actor = _get(event, path)
            public_actor[path] = self.is_public(actor, event)
            if not actor:
                continue
            if public_actor[path]:
                if actor.get("display_name"):
                    public_names.add(actor["display_name"].casefold())
                continue
            for f, label in ACTOR_FIELDS.items():
                v = actor.get(f)
                if isinstance(v, str) and v.strip():
                    known[v] = label
                    if f == "handle":
                        known["@" + v.lstrip("@")] = "ACCOUNT"
        return known, public_names, public_actor

    def _private_mentions(self, event: dict) -> dict[str, str]:
        """Mentioned handles that are not public accounts: private identities, like the authors'."""
        return {m: "ACCOUNT" for m in event.get("mentions") or []
                if isinstance(m, str) and m.strip() and not self.handle_public(m, event)}

    def _pseudonymise_field(self, state: _RecordState, value, path: str):
        """`value` (the event or a part of it at `path`) with every string treated as FIELD_TREATMENT says;
        a path not listed there gets the safety net "known"."""
        if isinstance(value, dict):
            return {k: self._pseudonymise_field(state, v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._pseudonymise_field(state, v, f"{path}[]") for v in value]
        if not isinstance(value, str) or not value:
            return value
        how = FIELD_TREATMENT.get(path, "known")
        if how == "keep":
            return value
        if how == "actor":
            return self._pseudonymise_actor_field(state, value, path)
        if how == "mention":
            return self._pseudonymise_mention(state, value)
        if how == "text":
            return self._pseudonymise_text(state, value)
        if how == "url":
            if not _PROFILE_HINT.search(value):
                return self._pseudonymise_text(state, value, full=False)
            return self._pseudonymise_url(state, value)
        if how == "raw":
            return self._pseudonymise_raw(state, value)
        return self._pseudonymise_text(state, value, full=False)

    def _pseudonymise_actor_field(self, state: _RecordState, value: str, path: str) -> str:
        """A field of an author (`path` like "author.handle"): the whole value becomes one token when the
        author is private; a public author stays readable."""
        actor_path, name = path.rsplit(".", 1)
        if state.public_actor[actor_path]:
            return value
        return self._mint_token(state.res, ACTOR_FIELDS[name], value)

    def _pseudonymise_mention(self, state: _RecordState, handle: str) -> str:
        """A handle in `mentions`: a token unless it is a public account."""
        if self.handle_public(handle, state.event):
            return handle
        return self._mint_token(state.res, "ACCOUNT", handle)

    def _mint_token(self, res: RecordResult, label: str, value: str) -> str:
        """The token that replaces all of `value`, recorded in the mappings (for the vault) and counts."""
        token = self.ring.token(label, value)
        res.mappings[token] = (label, value)
        res.counts[label] += 1
        return token

    def _pseudonymise_text(self, state: _RecordState, value: str, full: bool = True,
                           structured_only: bool = False) -> str:
        """Pseudonymised `value`; the same string in the raw payload is only detected once."""
        key = (value, full, structured_only)
        if key not in state.memo:
            state.memo[key] = self._replace_private_data(state, value, full, structured_only)
        return state.memo[key]

    def _replace_private_data(self, state: _RecordState, value: str, full: bool, structured_only: bool) -> str:
        """`value` with its personal data replaced: a value that is a known identity as a whole becomes its
        token; otherwise detected entities (`full`), known identities and reacting actors' ids in event
        ids are replaced span by span."""
        exact = _exact_known(state, value)
        if exact is not None:
            return self._mint_token(state.res, state.known[exact], value)
        ents = []
        if full:
            ents = [e for e in self._detect(value, state.keep_handle, structured_only)
                    if not (e.label == "PERSOON" and value[e.start:e.end].casefold() in state.public_names)]
        ents += _known_spans(state.known_low, value)
        ents += self._reaction_actor_ids(state, value)
        if not ents:
            return value
        out = replace_spans(value, resolve(ents), self.ring)
        state.res.mappings.update(out.mappings)
        state.res.counts.update(e.label for e in out.entities)
        return out.text

    def _reaction_actor_ids(self, state: _RecordState, value: str) -> list[Entity]:
        """Event ids of reactions end in the reacting actor's id (schema doc): also in ids of other
        records, e.g. decision.context, whose actor this record does not know."""
        if ":reaction:" not in value:
            return []
        return [Entity(m.start(1), m.end(1), "ACCOUNT", "known") for m in _REACTION.finditer(value)
                if not self.handle_public(m.group(1), state.event)]

    def _pseudonymise_stage_records(self, state: _RecordState, record: dict) -> dict:
        """Stage sub-records written before us (rules, burgerbrief) may quote identities: same safety net."""
        return {stage: _walk_strings(record[stage],
                                     lambda s: self._pseudonymise_text(state, s, structured_only=True))
                for stage in ("decision", "burgerbrief") if isinstance(record.get(stage), dict)}

    def _detect(self, value: str, keep_handle: Callable[[str], bool], structured_only: bool) -> list[Entity]:
        if structured_only:
            return resolve(recognizers.find(value, keep_handle))
        return self.detector.detect(value, keep_handle)

    def _pseudonymise_url(self, state: _RecordState, value: str) -> str:
        """A URL that may link to a profile: the handle in the profile URL, then the known identities."""
        ents = list(recognizers.profile_urls(value, state.keep_handle))
        if not ents:
            return self._pseudonymise_text(state, value, full=False)
        out = replace_spans(value, resolve(ents), self.ring)
        return self._pseudonymise_text(state, out.text, full=False)

    def _pseudonymise_raw(self, state: _RecordState, payload: str) -> str:
        """The platform payload, by the RAW policy: a JSON payload keeps its structure (free-text keys get
        full detection, id-like keys known identities only); anything else is treated as free text."""
        state.res.raw_original = payload
        if self.raw_policy == "encrypt":
            return json.dumps({"pseudonymisation": "original encrypted in the vault, see raw_location"})
        try:
            doc = json.loads(payload)
        except ValueError:
            return self._pseudonymise_text(state, payload)

        def walk(v, key: str = ""):
            if isinstance(v, dict):
                return {k: walk(x, k) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x, key) for x in v]
            if isinstance(v, str) and v:
                free = bool(_RAW_TEXT_KEYS.match(key)) or (" " in v.strip() and len(v) > 12)
                if key.lower() in ("id", "handle", "username", "screen_name", "acct", "user_id", "author_id"):
                    return self._pseudonymise_text(state, v, full=False)
                return self._pseudonymise_text(state, v, full=free)
            return v
        return json.dumps(walk(doc), ensure_ascii=False, separators=(",", ":"))


def _rehash_raw_payload(event: dict, new_event: dict) -> None:
    """raw.sha256 stays the hash of the payload that is archived, the pseudonymised one."""
    if new_event.get("raw", {}).get("payload") is not None and "raw" in event:
        new_event["raw"]["sha256"] = hashlib.sha256(new_event["raw"]["payload"].encode("utf-8")).hexdigest()


_REACTION = re.compile(r":reaction:([^\s\"',\]\[]+)")
_PROFILE_HINT = re.compile(r"(?i)x\.com|twitter|facebook|fb\.com|instagram|linkedin|tiktok|youtube|threads|bsky|/@")


def _known_spans(known_low: list[tuple[str, str]], value: str) -> list[Entity]:
    """Case-insensitive whole-word occurrences of the record's private identities (plain find: no regex
    compile per record)."""
    low = value.lower()
    out = []
    for v, label in known_low:
        i = low.find(v)
        while i >= 0:
            j = i + len(v)
            if (i == 0 or not low[i - 1].isalnum() and low[i - 1] != "_") and \
                    (j == len(low) or not low[j].isalnum() and low[j] != "_"):
                out.append(Entity(i, j, label, "known"))
            i = low.find(v, i + 1)
    return out


def _exact_known(state: _RecordState, value: str) -> str | None:
    """The known identity that `value` is as a whole (ignoring case and surrounding space)."""
    if value in state.known:
        return value
    low = value.strip().lower()
    return state.known_by_low.get(low) if low else None



def _get(d: dict, path: str):
    for part in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _walk_strings(v, fn):
    if isinstance(v, dict):
        return {k: _walk_strings(x, fn) for k, x in v.items()}
    if isinstance(v, list):
        return [_walk_strings(x, fn) for x in v]
    return fn(v) if isinstance(v, str) and v else v


def verify(record: dict, known_low: list[tuple[str, str]]) -> None:
    """Fail closed: no private identity of this record may remain in any string of it (fields whose
    treatment is "keep", such as the monitored account, are public by construction and skipped).
    The strings are searched as one text joined by NUL (a word boundary for `_known_spans`): one
    search per identity instead of one per string."""
    check = [(v, lab) for v, lab in known_low if len(v.strip()) >= 4]
    if not check:
        return
    parts: list[str] = []

    def event_strings(v, path: str):
        if isinstance(v, dict):
            for k, x in v.items():
                event_strings(x, f"{path}.{k}" if path else k)
        elif isinstance(v, list):
            for x in v:
                event_strings(x, f"{path}[]")
        elif isinstance(v, str) and v and FIELD_TREATMENT.get(path) != "keep":
            parts.append(v)

    def strings(v):
        if isinstance(v, dict):
            for x in v.values():
                strings(x)
        elif isinstance(v, list):
            for x in v:
                strings(x)
        elif isinstance(v, str) and v:
            parts.append(v)

    for k, v in record.items():
        if k == "event":
            event_strings(v, "")
        else:
            strings(v)
    spans = _known_spans(check, "\x00".join(parts))
    if spans:
        raise NotPseudonymisable(f"a private identity ({spans[0].label}) survived pseudonymisation")
