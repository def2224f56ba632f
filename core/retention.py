"""Selectielijst retention: which category, which class (B/V), which destroy-after date.

Pure logic: the settings object is duck-typed (archiefstroom.ground.config.RetentionSettings).
The datum returned matches the `Retention` record of schemas/archive_record.avsc.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal


@dataclass
class Category:
    """A selectielijst category: B (bewaren, permanent) or V (vernietigen) after `years`.
    Used by the main configuration's defaults and by the selectielijst registry alike."""
    retention_class: Literal["B", "V"]
    years: int | None = None
    description: str = ""

    def validate(self):
        if self.retention_class == "V" and (self.years is None or self.years < 0):
            raise ValueError("years: expected a number of years >= 0 for a V (vernietigen) category")
        if self.retention_class == "B" and self.years is not None:
            raise ValueError("years: expected no years for a B (bewaren, permanent) category")


@dataclass(frozen=True)
class RetentionDecision:
    retention_class: str          # "B" | "V"
    category: str
    destroy_after: dt.date | None  # None = permanent
    account_type: str
    hotspot: str | None = None

    def datum(self) -> dict:
        return {"retention_class": self.retention_class, "category": self.category,
                "destroy_after": self.destroy_after, "account_type": self.account_type,
                "hotspot": self.hotspot}

    @property
    def group(self) -> str:
        """Objects are grouped by this: S3 tags are per object, so one object = one retention."""
        until = self.destroy_after.isoformat() if self.destroy_after else "permanent"
        return f"{self.retention_class}-{self.category}-{until}-{self.account_type}-{self.hotspot or ''}"


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def destroy_after(created: dt.datetime, category) -> dt.date | None:
    """Term starts at the event date; the Archiefwet counts from the end of the year
    in practice, but the selectielijst here is configured per term in whole years
    from the event date, and B categories are permanent."""
    if category.retention_class == "B":
        return None
    return add_years(created.date(), int(category.years))


def choose_category(settings, *, account_type: str, event_type: str) -> str:
    """Event type wins over account type, both over the default (the rules refine this later)."""
    return (settings.by_event_type.get(event_type)
            or settings.by_account_type.get(account_type)
            or settings.default_category)


def decide(settings, *, created: dt.datetime, account_type: str, event_type: str,
           category: str | None = None, hotspot: str | None = None,
           hotspot_category: str | None = None) -> RetentionDecision:
    """A record inside a hotspot is kept permanently (class B) whatever its category says."""
    code = category or choose_category(settings, account_type=account_type, event_type=event_type)
    cat = settings.categories[code]
    if hotspot:
        code = hotspot_category or code
        return RetentionDecision("B", code, None, account_type, hotspot)
    return RetentionDecision(cat.retention_class, code, destroy_after(created, cat), account_type, None)
