"""How catalog values read in Dutch: labels, dates, and which platform links may be links.

Platform text is data, never markup: the templates autoescape everything, and a post's url
becomes a link only when it is plainly http(s) (a `javascript:` or `data:` url is shown
as text).
"""
from __future__ import annotations

import datetime as dt
import urllib.parse

from archiefstroom.core import media

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")

EVENT_TYPES_NL = {"post": "bericht", "reply": "reactie", "repost": "doorplaatsing", "quote": "citaat",
                  "edit": "bewerking", "delete": "verwijdering (tombstone)", "reaction": "waardering",
                  "direct_message": "privébericht"}
FACETS_NL = {"organisation": "Organisatie", "account": "Account", "platform": "Platform", "period": "Periode",
             "event_type": "Soort", "retention_class": "Bewaarklasse"}
RETENTION_NL = {"B": "B (blijvend bewaren)", "V": "V (vernietigen na termijn)"}
VERDICTS_NL = {"burgerbrief": "burgerbrief", "geen_burgerbrief": "geen burgerbrief"}


def when(ms: int | None) -> str:
    """'2 maart 2026 09:05 UTC' (the archive's dates are UTC, as its partitions are)."""
    if ms is None:
        return "onbekend"
    t = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return f"{t.day} {MONTHS[t.month - 1]} {t.year} {t:%H:%M} UTC"


def when_dt(value) -> str:
    if value is None:
        return "onbekend"
    if isinstance(value, dt.datetime):
        return when(int(value.timestamp() * 1000))
    return str(value)


def day(value) -> str:
    """'2 maart 2031' from a date or an ISO date string."""
    if value is None or value == "":
        return "blijvend (geen vernietigingsdatum)"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def period(value: str) -> str:
    """'2026-03' -> 'maart 2026'."""
    try:
        year, month = value.split("-")
        return f"{MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return value


def facet_value(facet: str, value) -> str:
    if facet == "event_type":
        return EVENT_TYPES_NL.get(value, value)
    if facet == "retention_class":
        return RETENTION_NL.get(value, value)
    if facet == "period":
        return period(value)
    return str(value)


def safe_link(url: str | None) -> str | None:
    """The url if a browser may follow it (http or https with a host), else None."""
    if not url:
        return None
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c in url for c in "\r\n\t\x00") or url != url.strip():
        return None
    return url


def yes_no(value) -> str:
    return {True: "ja", False: "nee"}.get(value, "onbekend")


def local_path(target: str | None, default: str) -> str:
    """Where to go after logging in: a path on this server only (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


MEDIA_STATUS_NL = {"stored": "bewaard", "failed": "niet bewaard", "skipped": "niet opgehaald"}
MEDIA_KIND_NL = {"media": "media", "linked_page": "gelinkte pagina"}


def extension(media_file: dict) -> str:
    """A download's file name extension, from the type the bytes showed."""
    ext = media.extension(media_file.get("content_type"), default="")
    return f".{ext}" if ext else ""


def size(n: int | None) -> str:
    """Bytes for people, with a Dutch decimal comma."""
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 ** 2:
        return f"{n / 1024:.1f} KiB".replace(".", ",")
    return f"{n / 1024 ** 2:.1f} MiB".replace(".", ",")
