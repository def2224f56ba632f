"""Settings of the archiving rules (issue 4): where the registries live, and rule parameters.

Owned by core/rules. Loaded as section `rules:` of the main configuration through
archiefstroom.ground.settings (the one loader), so mistakes name file, line and field.
Registry paths are relative to the directory of the configuration file, so a
deployment carries its configuration and registries together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from archiefstroom.core.fields import check

_topic = re.compile(r"^[A-Za-z0-9._\-]{1,249}$")

DEFAULT_DISCLAIMER = (
    "Dit bericht bevat inhoud van een derde partij die persoonsgegevens kan bevatten. "
    "Niet openbaar maken (Woo) zonder voorafgaande beoordeling.")


@dataclass
class RulesSettings:
    enabled: bool = True
    # registry files, relative to the configuration file's directory
    accounts: Path = Path("registry/accounts.yaml")
    platforms: Path = Path("registry/platforms.yaml")
    selectielijst: Path = Path("registry/selectielijst.yaml")
    hotspots: Path = Path("registry/hotspots.yaml")
    assessments: Path = Path("registry/assessments.yaml")   # issue 17: platform assessments
    # rule 5/7/8: how long (event time) a citizen post waits for a government reaction
    hold_window_hours: Annotated[float, check(lambda v: 0 < v <= 24 * 366, "hours between 0 and 8784")] = 72.0
    # compacted topic where the sink keeps held items, so a hold survives a crash after commit
    held_topic: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.held"
    restore_holds: bool = True
    # rule 10: compacted topic where the sink keeps every archived edit/delete (no text, no actor),
    # so an edit after a restart still links to the previous version
    versions_topic: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.versions"
    restore_versions: bool = True
    # issue 17: seal a thread when its harvest window (registry: platforms.yaml) closes by event
    # time (docs/harvest-window.md); false leaves threads open for good (no keyed stage before the sink)
    seal_threads: bool = True
    # compacted topic of the open threads' items (ids, versions, SHA-256, rule; no text, no actor)
    # and of the sealed threads, so a seal after a restart still holds what came before it
    threads_topic: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.threads"
    restore_threads: bool = True
    # a reaction after the seal: counted and dropped (R-late-reaction), or archived as a late
    # addendum linked to the seal (and counted)
    late_reactions: Literal["count", "addendum"] = "count"
    # how long (event time) after its close the seal stage keeps a sealed thread's ids in its
    # state; later, the seal object in the bucket answers (one GET), so the state stays bounded
    sealed_memory_hours: Annotated[float, check(lambda v: 0 <= v <= 24 * 366, "hours between 0 and 8784")] = 24.0
    # rule 6: text attached to government reposts of third-party content
    disclaimer: Annotated[str, check(lambda v: bool(v.strip()), "a non-empty disclaimer text")] = DEFAULT_DISCLAIMER

    def path(self, name: str, base: Path | None) -> Path:
        """Registry file `name` (accounts, platforms, selectielijst, hotspots, assessments) resolved against `base`."""
        p = Path(getattr(self, name))
        return p if p.is_absolute() or base is None else (base / p)
