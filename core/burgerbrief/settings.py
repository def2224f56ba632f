"""Settings of burgerbrief detection and webcare (issue 5). Section `burgerbrief:` of the main configuration."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BurgerbriefSettings:
    enabled: bool = True
