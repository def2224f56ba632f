"""Settings of the archiving rules (issue 4): where the registries live, and rule parameters.

Owned by core/rules. Loaded as section `rules:` of the main configuration through
archiefstroom.settings (the one loader), so mistakes name file, line and field.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RulesSettings:
    enabled: bool = True
