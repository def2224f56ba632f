"""Settings of the pseudonymiser (issue 6). Section `pseudonymisation:` of the main configuration."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PseudonymisationSettings:
    enabled: bool = True
