"""Hotspots added after the fact, as plain decisions: which archived records a hotspot
matches, which objects can hold such records, and an object's tags once it is kept.

No I/O. A record matches as the rules match a new event (core.rules.registry.Hotspot.matches:
the period, then a hashtag, an account or author, or a term in the text), so existing and new
records are judged alike. The text is the archived one, pseudonymised: a term that is a
person's name cannot match, hashtags and ordinary words do.

One object holds records that do and records that do not match: the whole object is kept
(tags, legal hold). Keeping too much is lawful, destroying a hotspot record is not.
"""
from __future__ import annotations

import datetime as dt
import json

from archiefstroom.core.rules.registry import Hotspot


def record_matches(hotspot: Hotspot, record: dict) -> bool:
    """Whether an archive record's event falls in the hotspot (the rules' own test)."""
    ev = record["event"]
    event = {**ev, "author": ev.get("author") or {"id": ""}, "account": ev.get("account") or {"id": ""}}
    return hotspot.matches(event)


def matching(hotspot: Hotspot, records: list[dict]) -> list[dict]:
    return [r for r in records if record_matches(hotspot, r)]


def may_hold(hotspot: Hotspot, month: str) -> bool:
    """Whether an object of creation month `month` ('YYYY-MM', Europe/Amsterdam, from its key)
    can hold records of the hotspot's period (UTC days): a month either side is read too, as
    a record's Amsterdam month and UTC day may differ at a month's edge."""
    year, mon = (int(p) for p in month.split("-"))
    first = dt.date(year, mon, 1)
    lo = (first - dt.timedelta(days=1)).replace(day=1)
    hi = (first + dt.timedelta(days=62)).replace(day=1)       # first day two months on
    return hotspot.start < hi and lo <= hotspot.end


def kept_tags(tags: dict, name: str, hotspot_category: str) -> dict:
    """The tags of an object kept for hotspot `name`: B, permanent, the selectielijst's hotspot
    category (what the rules give a new record of the hotspot), and what it was before."""
    if tags.get("hotspot") == "true":
        return dict(tags)
    out = {**tags, "retention_class": "B", "destroy_after": "permanent", "hotspot": "true",
           "hotspot_name": name, "selectielijst_category": hotspot_category}
    out["category_before"] = tags.get("selectielijst_category", "")
    return out


def entry_yaml(h: Hotspot) -> str:
    """The hotspot as a YAML block item, appended to the registry file (its comments stay)."""
    def seq(values):
        return "[" + ", ".join(_quote(v) for v in values) + "]"
    lines = [f"  - name: {h.name}"]
    if h.description:
        lines.append(f"    description: {_quote(h.description)}")
    lines += [f"    start: {h.start.isoformat()}", f"    end: {h.end.isoformat()}"]
    for name in ("hashtags", "terms", "accounts"):
        values = getattr(h, name)
        if values:
            lines.append(f"    {name}: {seq(values)}")
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    """A YAML double-quoted scalar (a JSON string is valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)
