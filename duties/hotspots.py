"""Hotspots added after the fact (issue 13): into the hotspots registry for new records, and onto
the archive for records already in it.

`add` appends the hotspot to the registry file named by `rules.hotspots` (the rules read it
when a pipeline starts: a running `run` picks it up after a restart), records it in the
duties register, then `apply`s it. `apply` re-tags every object holding a matching record to
B / permanent (tags, a legal hold on each version; an existing COMPLIANCE lock stays, it can
only be longer) and updates the catalog's entries; it can be run again (after the pipeline's
restart, for records archived in between) and changes nothing twice.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import layout, media
from archiefstroom.core.duties import hotspots as core
from archiefstroom.core.rules.registry import Hotspot, HotspotsFile
from archiefstroom.duties.destruction import DutyError, archive_objects
from archiefstroom.ground import registries
from archiefstroom.ground.config import DEFAULT_CONFIG
from archiefstroom.ground.settings import ConfigError, from_dict, load_yaml

KIND = "hotspot"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def registry_file(cfg) -> Path:
    base = Path(cfg.source_file).parent if getattr(cfg, "source_file", None) else DEFAULT_CONFIG.parent
    return cfg.rules.path("hotspots", base)


@dataclass
class Result:
    name: str
    retagged: list[str] = field(default_factory=list)      # objects re-tagged now
    already: list[str] = field(default_factory=list)       # kept for this hotspot before
    other: list[str] = field(default_factory=list)         # kept for another hotspot already
    matched_records: int = 0


def add(cfg, spec: dict, *, by: str) -> Result:
    """Validate `spec` as the rules would, append it to the registry file, register, apply."""
    path = registry_file(cfg)
    try:
        hotspot = from_dict({k: v for k, v in spec.items() if v not in (None, [], "")}, Hotspot, source="hotspot")
    except ConfigError as exc:
        raise DutyError(re.sub(r"^hotspot(:\d+)?: ", "", str(exc))) from None   # no file: the arguments
    current = load_yaml(path, HotspotsFile)
    if any(h.name == hotspot.name for h in current.hotspots):
        raise DutyError(f"hotspot {hotspot.name!r} is already in {path} (`archive hotspot apply` re-tags again)")
    original = path.read_text(encoding="utf-8")
    _append(path, current, hotspot)
    try:
        registries.load_for(cfg)       # the whole registry still loads, strictly, as `run` will load it
    except ConfigError:
        path.write_text(original, encoding="utf-8")
        raise
    register = Register(ArchiveStore(cfg.s3))
    register.put(KIND, hotspot.name, {"name": hotspot.name, "description": hotspot.description,
                                      "start": hotspot.start.isoformat(), "end": hotspot.end.isoformat(),
                                      "terms": hotspot.terms, "hashtags": hotspot.hashtags,
                                      "accounts": hotspot.accounts, "added_by": by, "added_at": _now(),
                                      "registry_file": str(path), "objects": {}})
    register.audit("hotspot.add", by, name=hotspot.name, start=hotspot.start.isoformat(), end=hotspot.end.isoformat(),
                   registry_file=str(path))
    return apply(cfg, hotspot.name, by=by)


def _append(path: Path, current: HotspotsFile, hotspot: Hotspot) -> None:
    """Append the entry as text (the file's comments stay); if the file's shape does not take an
    appended item (an empty `hotspots: []`, say), write it out whole. Checked before it replaces
    the file, and replaced atomically."""
    text = path.read_text(encoding="utf-8")
    new = text + ("" if text.endswith("\n") else "\n") + core.entry_yaml(hotspot)
    if not current.hotspots or not _parses_to(new, len(current.hotspots) + 1, hotspot.name):
        entries = (yaml.safe_load(text) or {}).get("hotspots") or []
        new = ("# Hotspot register: records inside a hotspot (period + a matching hashtag, term or account)\n"
               "# get retention class B under the selectielijst's hotspot_category.\nhotspots:\n")
        new += "".join(core.entry_yaml(from_dict(e, Hotspot, source=str(path))) for e in entries)
        new += core.entry_yaml(hotspot)
        if not _parses_to(new, len(entries) + 1, hotspot.name):
            raise DutyError(f"{path}: could not add the hotspot without changing the others; file left as it was")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def _parses_to(text: str, n: int, name: str) -> bool:
    try:
        entries = (yaml.safe_load(text) or {}).get("hotspots") or []
    except yaml.YAMLError:
        return False
    return len(entries) == n and entries[-1].get("name") == name


def apply(cfg, name: str, *, by: str) -> Result:
    reg = registries.load_for(cfg)
    hotspot = next((h for h in reg.hotspots.hotspots if h.name == name), None)
    if hotspot is None:
        raise DutyError(f"hotspot {name!r} is not in {registry_file(cfg)}")
    category = reg.selectielijst.hotspot_category
    store = ArchiveStore(cfg.s3)
    register = Register(store)
    doc = register.get(KIND, name) or {"name": name, "start": hotspot.start.isoformat(),
                                       "end": hotspot.end.isoformat(), "terms": hotspot.terms,
                                       "hashtags": hotspot.hashtags, "accounts": hotspot.accounts,
                                       "added_by": None, "added_at": None, "objects": {}}
    out = Result(name)
    with Catalog.open(cfg) as catalog:
        for key in archive_objects(store, cfg.s3.prefix):
            if not core.may_hold(hotspot, layout.parse_object_key(key)["month"]):
                continue
            tags = store.tags(key)
            if tags.get("hotspot") == "true":    # kept already: by this hotspot, or another
                mine = tags.get("hotspot_name") == name or f"-hotspot-{layout.safe(name)}/" in key
                (out.already if mine else out.other).append(key)
                continue
            records = store.records(key) or []
            matched = core.matching(hotspot, records)
            if not matched:
                continue
            new = core.kept_tags(tags, name, category)
            for v in [v for v in store.versions(key) if not v["delete_marker"]]:
                store.put_tags(key, new, v["version_id"])
                if store.locked:
                    store.set_legal_hold(key, True, v["version_id"])
            catalog.set_retention(key, retention_class="B", category=category, hotspot=name, years=None)
            # the media files its records show are kept with it: the same tags and a legal hold
            files = sorted({f["object_key"] for r in records for f in media.stored(r)})
            for file_key in files:
                for v in [v for v in store.versions(file_key) if not v["delete_marker"]]:
                    store.put_tags(file_key, {**new, "schema_version": "media"}, v["version_id"])
                    if store.locked:
                        store.set_legal_hold(file_key, True, v["version_id"])
            doc["objects"][key] = {"records": len(records), "matched": len(matched), "category": category,
                                   "category_before":
                                   tags.get("selectielijst_category", ""), "at": _now(), "by": by,
                                   **({"media": files} if files else {})}
            out.retagged.append(key)
            out.matched_records += len(matched)
    register.put(KIND, name, doc)
    register.audit("hotspot.apply", by, name=name, retagged=sorted(out.retagged), matched_records=out.matched_records,
                   already=len(out.already))
    return out


def listing(cfg) -> list[dict]:
    """Every hotspot of the registry file, with what the register knows of it (who added it,
    how many objects it keeps); and registered ones no longer in the file."""
    path = registry_file(cfg)
    in_file = load_yaml(path, HotspotsFile).hotspots
    register = Register(ArchiveStore(cfg.s3))
    docs = {d["name"]: d for d in register.all(KIND) if d}
    out = []
    for h in in_file:
        d = docs.pop(h.name, {})
        out.append({"name": h.name, "start": h.start.isoformat(), "end": h.end.isoformat(),
                    "hashtags": h.hashtags, "terms": h.terms, "accounts": h.accounts, "description": h.description,
                    "added_by": d.get("added_by"), "objects": len(d.get("objects", {})), "in_registry": True})
    for d in docs.values():
        out.append({**{k: d.get(k) for k in ("name", "start", "end", "hashtags", "terms", "accounts", "description",
                                             "added_by")}, "objects": len(d.get("objects", {})), "in_registry": False})
    return out
