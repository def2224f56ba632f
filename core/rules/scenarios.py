"""Example events and accounts: the three scenarios of the team's flow chart, and a builder
for SocialEvent datums used by tests and by `archiefstroom rules diagram`.

The diagram runs these events through the real engine, so it shows what the rules do,
not what someone remembered they do.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from archiefstroom.core.retention import Category
from archiefstroom.core.rules import registry as registry_core

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
_ids = itertools.count(1)

GOV = {"id": "GemeenteVoorbeeld", "handle": "GemeenteVoorbeeld", "display_name": "Gemeente Voorbeeld",
       "profile_url": None, "avatar_url": None}
CITIZEN = {"id": "u4711", "handle": "burger4711", "display_name": "Een Burger", "profile_url": None,
           "avatar_url": None}


def event(event_type: str = "post", *, platform: str = "x", account: str = "GemeenteVoorbeeld",
          author: dict | None = None, native_id: str | None = None, in_reply_to: str | None = None,
          thread_root: str | None = None, referenced: dict | None = None, text: str | None = "Bericht",
          hashtags=(), mentions=(), urls=(), created: dt.datetime | None = None, minutes: float = 0,
          reaction_kind: str | None = None, event_id: str | None = None, object_id: str | None = None) -> dict:
    """A SocialEvent datum (timestamps as aware datetimes), ids as the connectors make them."""
    native = native_id or str(next(_ids))
    created = (created or T0) + dt.timedelta(minutes=minutes)
    payload = "{}"
    suffix = {"edit": f":edit:{created.isoformat()}", "delete": ":delete"}.get(event_type, "")
    if event_type == "reaction":
        suffix = f":reaction:{(author or CITIZEN)['id']}"
    return {
        "event_id": event_id or f"{platform}:{native}{suffix}", "object_id": object_id or f"{platform}:{native}",
        "platform": platform, "native_id": native, "event_type": event_type,
        "account": {"id": account, "handle": account, "display_name": None},
        "author": dict(author or {**GOV, "id": account, "handle": account}),
        "in_reply_to": in_reply_to, "thread_root": thread_root, "referenced": referenced,
        "created_at": created, "captured_at": created + dt.timedelta(seconds=30),
        "edited_at": created if event_type == "edit" else None, "text": text, "language": "nl", "url": None,
        "hashtags": list(hashtags), "mentions": list(mentions), "urls": list(urls), "media": [],
        "reaction_kind": reaction_kind,
        "raw": {"payload": payload, "sha256": hashlib.sha256(payload.encode()).hexdigest(),
                "content_type": "application/json"},
        "connector": {"name": "example", "version": "1"},
    }


def record(ev: dict, offset: int = 0, partition: int = 0, topic: str = "archiefstroom.raw") -> dict:
    return {"event": ev, "source": {"topic": topic, "partition": partition, "offset": offset},
            "archived_at": ev["captured_at"], "pipeline_version": "test"}


def citizen(n: int = 4711) -> dict:
    return {**CITIZEN, "id": f"u{n}", "handle": f"burger{n}"}


def accounts(route_one: str = "GemeenteVoorbeeld", route_two: str = "GemeenteTweeweg",
             hybrid: str = "wethouder_voorbeeld") -> dict:
    return {
        "organisations": {"Gemeente Voorbeeld": {"domains": ["voorbeeld.nl"]}},
        "accounts": [
            {"platform": "x", "id": route_one, "organisation": "Gemeente Voorbeeld", "type": "corporate",
             "route": 1},
            {"platform": "x", "id": route_two, "organisation": "Gemeente Voorbeeld", "type": "corporate",
             "route": 2, "key_function": True},
            {"platform": "x", "id": hybrid, "organisation": "Gemeente Voorbeeld", "type": "hybrid", "route": 2,
             "hashtags": ["raad"]},
            {"platform": "x", "id": "privepersoon", "type": "private"},
        ],
    }


PLATFORMS = {"platforms": {p: {"reactions_can_be_switched_off": p != "mastodon"}
                           for p in registry_core.PLATFORMS}}


def example_registry(selectielijst: registry_core.Selectielijst | None = None,
                     platforms: dict | None = None) -> registry_core.Registry:
    """Scenario accounts with the given (configured) selectielijst; built in code, as the
    registries' own dataclasses (files go through archiefstroom.ground.registries)."""
    acc = accounts()
    accounts_file = registry_core.AccountsFile(
        organisations={k: registry_core.Organisation(**v) for k, v in acc["organisations"].items()},
        accounts=[registry_core.Account(**a) for a in acc["accounts"]])
    platforms_file = registry_core.PlatformsFile(
        {p: registry_core.PlatformCapability(**c) for p, c in (platforms or PLATFORMS)["platforms"].items()})
    sl = selectielijst or registry_core.Selectielijst(
        categories={"P": Category("B"), "V10": Category("V", 10), "V5": Category("V", 5)},
        default_category="V10", hotspot_category="P",
        mapping=[registry_core.Mapping("P", account_type=["corporate"], key_function=True,
                                       author=["account", "government"]),
                 registry_core.Mapping("V5", author=["citizen", "private", "hybrid"])])
    return registry_core.Registry(accounts_file, platforms_file, sl, registry_core.HotspotsFile(), "inline")


# The three scenarios of the flow chart: (title, account, [(label, event), ...]) with events in thread order.
def scenarios() -> list[tuple[str, str, list[tuple[str, dict]]]]:
    def thread(account: str, tags=()):
        post = event("post", account=account, native_id=f"{account}-1", hashtags=tags)
        root = post["object_id"]
        reply = event("reply", account=account, native_id=f"{account}-2", author=citizen(), in_reply_to=root,
                      thread_root=root, minutes=5)
        reply2 = event("reply", account=account, native_id=f"{account}-3", author=citizen(8), minutes=9,
                       in_reply_to=reply["object_id"], thread_root=root)
        webcare = event("reply", account=account, native_id=f"{account}-4", minutes=12,
                        in_reply_to=reply["object_id"], thread_root=root)
        like = event("reaction", account=account, native_id=f"{account}-1", author=citizen(9), minutes=13,
                     in_reply_to=root, thread_root=root, reaction_kind="like", text=None)
        share = event("repost", account=account, native_id=f"{account}-5", minutes=20, text=None,
                      referenced={"object_id": "x:derde-1", "text": "Bericht van een derde", "url": None,
                                  "author": {"id": "nieuwsbron", "handle": "nieuwsbron", "display_name": None,
                                             "profile_url": None, "avatar_url": None}})
        quote = event("quote", account=account, native_id=f"{account}-6", author=citizen(10), minutes=25,
                      referenced={"object_id": root, "text": "Bericht", "url": None, "author": GOV | {"id": account}})
        mention = event("post", account=account, native_id=f"{account}-7", author=citizen(11), minutes=30,
                        mentions=["GemeenteVoorbeeld"], text="@GemeenteVoorbeeld vraag")
        edit = event("edit", account=account, native_id=f"{account}-1", minutes=40, hashtags=tags)
        delete = event("delete", account=account, native_id=f"{account}-2", author=citizen(), minutes=50,
                       text=None)
        dm = event("direct_message", account=account, native_id=f"{account}-8", author=citizen(12), minutes=55)
        return [("bericht", post), ("reactie", reply), ("reactie op reactie", reply2),
                ("webcare-antwoord", webcare), ("like", like), ("delen van derde", share),
                ("burger deelt bericht", quote), ("burger noemt organisatie", mention), ("bewerking", edit),
                ("verwijdering reactie", delete), ("privébericht", dm)]

    return [
        ("1. Eenrichtingsverkeer via corporate account (route 1)", "GemeenteVoorbeeld",
         thread("GemeenteVoorbeeld")),
        ("2. Interactie via corporate account (route 2)", "GemeenteTweeweg", thread("GemeenteTweeweg")),
        ("3. Interactie met hybride account (hashtagfilter #raad)", "wethouder_voorbeeld",
         thread("wethouder_voorbeeld", tags=("raad",))),
    ]
