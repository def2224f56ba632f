"""What the archivist's duty commands share: who acts, date arguments, and how a refused duty ends.

Woo, retention, hotspot, transfer and report record *who* did something in the duties register's
audit trail; they all take `--by` and fall back to the login name here, so the trail never says
different things ("unknown", "onbekend") for the same missing name.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from archiefstroom.duties.destruction import DutyError

UNKNOWN_ACTOR = "archiefstroom"


def actor(given: str | None) -> str:
    """`--by` if given, else the login name (a container without a passwd entry: UNKNOWN_ACTOR)."""
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return UNKNOWN_ACTOR


def date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def guarded(action: Callable[[], int]) -> int:
    """Runs a duty; a refused duty, a failing object store or an unwritable --out is one line and exit 1."""
    try:
        return action()
    except DutyError as exc:
        print(f"archiefstroom: {exc}", file=sys.stderr)
    except (ClientError, BotoCoreError) as exc:
        print(f"archiefstroom: the object store refused or failed: {exc}", file=sys.stderr)
    except (OSError, RuntimeError) as exc:     # an unwritable --out, a bucket that is not there
        print(f"archiefstroom: {exc}", file=sys.stderr)
    return 1
