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

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

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
        return bool(ids & (self.public_accounts | own))

    def handle_public(self, handle: str, event: dict) -> bool:
        h = _norm_handle(handle)
        acct = event.get("account") or {}
        return h in self.public_accounts or h.split("@")[0] in self.public_accounts or \
            h in {_norm_handle(acct.get("id")), _norm_handle(acct.get("handle"))}

    # -------------------------------------------------------------- the pass
    def apply(self, record: dict) -> RecordResult:
        event = record.get("event")
        if not isinstance(event, dict):
            raise NotPseudonymisable("record has no event")
        res = RecordResult(record)
        known: dict[str, str] = {}          # private identity value -> label
        public_names: set[str] = set()
        acct = event.get("account") or {}
        if acct.get("display_name"):
            public_names.add(acct["display_name"].casefold())
        for path in ("author", "referenced.author"):
            actor = _get(event, path)
            if not actor:
                continue
            if self.is_public(actor, event):
                if actor.get("display_name"):
                    public_names.add(actor["display_name"].casefold())
                continue
            for f, label in ACTOR_FIELDS.items():
                v = actor.get(f)
                if isinstance(v, str) and v.strip():
                    known[v] = label
                    if f == "handle":
                        known["@" + v.lstrip("@")] = "ACCOUNT"
        for m in event.get("mentions") or []:
            if isinstance(m, str) and m.strip() and not self.handle_public(m, event):
                known[m] = "ACCOUNT"
        keep_handle = lambda h: self.handle_public(h, event)   # noqa: E731
        known_low = sorted(((v.lower(), lab) for v, lab in known.items() if len(v.strip()) >= 2),
                           key=lambda x: -len(x[0]))

        memo: dict[tuple[str, bool, bool], str] = {}

        def text(value: str, full: bool = True, structured_only: bool = False) -> str:
            """Pseudonymised `value`; the same string in the raw payload is only detected once."""
            key = (value, full, structured_only)
            if key not in memo:
                memo[key] = _text(value, full, structured_only)
            return memo[key]

        def _text(value: str, full: bool, structured_only: bool) -> str:
            exact = _exact_known(known, value)
            if exact is not None:
                token = self.ring.token(known[exact], value)
                res.mappings[token] = (known[exact], value)
                res.counts[known[exact]] += 1
                return token
            ents = []
            if full:
                ents = [e for e in self._detect(value, keep_handle, structured_only)
                        if not (e.label == "PERSOON" and value[e.start:e.end].casefold() in public_names)]
            ents += _known_spans(known_low, value)
            if ":reaction:" in value:
                # event ids of reactions end in the reacting actor's id (schema doc): also in ids of other
                # records, e.g. decision.context, whose actor this record does not know
                ents += [Entity(m.start(1), m.end(1), "ACCOUNT", "known") for m in _REACTION.finditer(value)
                         if not self.handle_public(m.group(1), event)]
            if not ents:
                return value
            out = replace_spans(value, resolve(ents), self.ring)
            res.mappings.update(out.mappings)
            res.counts.update(e.label for e in out.entities)
            return out.text

        def visit(value, path: str):
            if isinstance(value, dict):
                return {k: visit(v, f"{path}.{k}" if path else k) for k, v in value.items()}
            if isinstance(value, list):
                return [visit(v, f"{path}[]") for v in value]
            if not isinstance(value, str) or not value:
                return value
            how = FIELD_TREATMENT.get(path, "known")
            if how == "keep":
                return value
            if how == "actor":
                actor = _get(event, path.rsplit(".", 1)[0])
                if self.is_public(actor, event):
                    return value
                label = ACTOR_FIELDS[path.rsplit(".", 1)[1]]
                token = self.ring.token(label, value)
                res.mappings[token] = (label, value)
                res.counts[label] += 1
                return token
            if how == "mention":
                if self.handle_public(value, event):
                    return value
                token = self.ring.token("ACCOUNT", value)
                res.mappings[token] = ("ACCOUNT", value)
                res.counts["ACCOUNT"] += 1
                return token
            if how == "text":
                return text(value)
            if how == "url":
                return text(value, full=False) if not _PROFILE_HINT.search(value) else self._url(value, text, keep_handle)
            if how == "raw":
                return self._raw(value, text, res)
            return text(value, full=False)

        new_event = visit(event, "")
        if new_event.get("raw", {}).get("payload") is not None and "raw" in event:
            new_event["raw"]["sha256"] = hashlib.sha256(new_event["raw"]["payload"].encode("utf-8")).hexdigest()
        out = {**record, "event": new_event}
        # stage sub-records written before us (rules, burgerbrief) may quote identities: same safety net
        for stage in ("decision", "burgerbrief"):
            if isinstance(record.get(stage), dict):
                out[stage] = _walk_strings(record[stage], lambda s: text(s, structured_only=True))
        res.record = out
        verify(out, known_low)
        return res

    def _detect(self, value: str, keep_handle: Callable[[str], bool], structured_only: bool) -> list[Entity]:
        if structured_only:
            from archiefstroom.core.pseudonymise import recognizers  # noqa: PLC0415
            return resolve(recognizers.find(value, keep_handle))
        return self.detector.detect(value, keep_handle)

    def _url(self, value: str, text, keep_handle) -> str:
        from archiefstroom.core.pseudonymise import recognizers  # noqa: PLC0415
        ents = list(recognizers.profile_urls(value, keep_handle))
        if not ents:
            return text(value, full=False)
        out = replace_spans(value, resolve(ents), self.ring)
        return text(out.text, full=False)

    def _raw(self, payload: str, text, res: RecordResult) -> str:
        res.raw_original = payload
        if self.raw_policy == "encrypt":
            return json.dumps({"pseudonymisation": "original encrypted in the vault, see raw_location"})
        try:
            doc = json.loads(payload)
        except ValueError:
            return text(payload)

        def walk(v, key: str = ""):
            if isinstance(v, dict):
                return {k: walk(x, k) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x, key) for x in v]
            if isinstance(v, str) and v:
                free = bool(_RAW_TEXT_KEYS.match(key)) or (" " in v.strip() and len(v) > 12)
                if key.lower() in ("id", "handle", "username", "screen_name", "acct", "user_id", "author_id"):
                    return text(v, full=False)
                return text(v, full=free)
            return v
        return json.dumps(walk(doc), ensure_ascii=False, separators=(",", ":"))


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


def _exact_known(known: dict[str, str], value: str) -> str | None:
    if value in known:
        return value
    low = value.strip().lower()
    return next((k for k in known if k.lower() == low), None) if low else None



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
    treatment is "keep", such as the monitored account, are public by construction and skipped)."""
    check = [(v, lab) for v, lab in known_low if len(v.strip()) >= 4]
    if not check:
        return

    def walk(v, path: str):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path else k)
        elif isinstance(v, list):
            for x in v:
                walk(x, f"{path}[]")
        elif isinstance(v, str):
            if path.startswith("event.") and FIELD_TREATMENT.get(path[6:]) == "keep":
                return
            spans = _known_spans(check, v)
            if spans:
                raise NotPseudonymisable(f"a private identity ({spans[0].label}) survived pseudonymisation")
    walk(record, "")
