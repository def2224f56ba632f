"""A small hand-made archive for the web interface's tests, with hostile posts.

Written out here, not produced by the pipeline: a post of Gemeente Voorbeeld with an edit,
a citizen's reaction full of markup and a `javascript:` url, an answer to that reaction, a
reaction whose raw payload no longer matches its SHA-256, and a Mastodon post with its
delete tombstone. Expected answers in the tests are written by hand from these records.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from archiefstroom.core.catalog import entry_of
from archiefstroom.core.rules import scenarios as sc

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
V12 = {"retention_class": "V", "category": "1.2", "destroy_after": dt.date(2036, 3, 2), "account_type": "corporate",
       "hotspot": None}
V13 = {**V12, "category": "1.3", "destroy_after": dt.date(2031, 3, 2)}
B11 = {"retention_class": "B", "category": "1.1", "destroy_after": None, "account_type": "corporate",
       "hotspot": "Watersnood 2026"}

HOSTILE_TEXT = ("<script>document.title='gehackt'</script> Waarom is het stadhuis dicht? "
                "<img src=x onerror=\"document.body.dataset.pwned='ja'\"> [PERSOON-1]")
HOSTILE_AUTHOR = "\"><svg onload=alert(1)>"
HOSTILE_URL = "javascript:alert(document.cookie)"
EDIT_ID = "x:100:edit:2026-03-02T10:00:00+00:00"
TAMPERED_ID = "x:103"
RULES = [{"rule": "account_registered", "fired": True, "outcome": "route 2", "inputs": {"account": "GemeenteVoorbeeld"}},
         {"rule": "hotspot", "fired": False, "outcome": None, "inputs": {}},
         {"rule": "reaction_of_citizen", "fired": True, "outcome": "categorie 1.3", "inputs": {"author": "burger"}}]


def _record(ev, offset, retention, *, version=None, record_version=1, burgerbrief=None, org="Gemeente Voorbeeld",
            rules=RULES):
    rec = sc.record(ev, offset=offset)
    rec.update(retention=retention, record_version=record_version, burgerbrief=burgerbrief, pseudonymisation=None,
               decision={"rules": [dict(r) for r in rules], "route": 2, "organisation": org, "flags": [],
                         "disclaimer": None, "publishable": True, "supersedes": None, "original": None,
                         "version": version, "context": [], "registry_version": "reg-7"})
    return rec


def records() -> list[dict]:
    post = sc.event(native_id="100", created=T0, text="Het stadhuis is maandag gesloten wegens onderhoud")
    post["url"] = "https://x.com/GemeenteVoorbeeld/status/100"
    reply = sc.event("reply", native_id="101", created=T0, minutes=5, in_reply_to="x:100", thread_root="x:100",
                     author={**sc.citizen(), "handle": HOSTILE_AUTHOR}, text=HOSTILE_TEXT)
    reply["url"] = HOSTILE_URL
    answer = sc.event("reply", native_id="102", created=T0, minutes=9, in_reply_to="x:101", thread_root="x:100",
                      text="Wij leggen het u uit in een brief")
    tampered = sc.event("reply", native_id="103", created=T0, minutes=20, in_reply_to="x:100", thread_root="x:100",
                        author=sc.citizen(5), text="Klopt het dat de parkeergarage ook dicht is?")
    tampered["raw"] = {"payload": '{"id": "103", "text": "achteraf gewijzigd"}',
                       "sha256": hashlib.sha256(b'{"id": "103"}').hexdigest(), "content_type": "application/json"}
    edit = sc.event("edit", native_id="100", created=T0, minutes=60,
                    text="Het stadhuis is maandag en dinsdag gesloten wegens onderhoud")
    bridge = sc.event(platform="mastodon", native_id="200", account="RijkswaterstaatNL",
                      created=dt.datetime(2026, 4, 10, 7, 30, tzinfo=UTC), text="Brug bij Zwolle afgesloten")
    gone = sc.event("delete", platform="mastodon", native_id="200", account="RijkswaterstaatNL",
                    created=dt.datetime(2026, 4, 11, 8, 0, tzinfo=UTC), text=None)
    bb = {"label": True, "score": 0.87, "category": "klacht", "reasons": ["vraag aan de gemeente"], "urgent": False,
          "model_version": "bb-3", "verdict": None}
    return [_record(post, 0, V12), _record(reply, 1, V13, burgerbrief=bb), _record(answer, 2, V12),
            _record(tampered, 3, V13), _record(edit, 4, V12, version=2),
            _record(bridge, 5, B11, org="Rijkswaterstaat"),
            _record(gone, 6, B11, version=2, org="Rijkswaterstaat")]


def entries(key=lambda rec: f"archive/web-test/{rec['source']['offset']:05d}.avro"):
    return [entry_of(r, key(r)) for r in records()]


# -- helpers for the web tests ------------------------------------------------------------
PASSWORD = "correct horse battery staple"
USERS = {"anna": "archivist", "wim": "webcare", "olaf": "operations", "aud": "auditor", "pia": "privacy_officer"}


_USERS_FILE: list = []


def add_users(users_file) -> None:
    """The five users of USERS, one per role, as a users file of an earlier version at
    `users_file`, which the web takes over into its database at start: hashed once per test
    run (argon2id costs about 0.1 s a hash, by design) and copied."""
    import json
    import shutil
    import tempfile
    from pathlib import Path

    from argon2 import PasswordHasher
    if not _USERS_FILE:
        made = Path(tempfile.mkdtemp(prefix="web-users-")) / "users.json"
        hasher = PasswordHasher()
        made.write_text(json.dumps({"users": {
            name: {"role": role, "hash": hasher.hash(PASSWORD), "created": "2026-03-01T08:00:00+00:00"}
            for name, role in USERS.items()}}))
        _USERS_FILE.append(made)
    Path(users_file).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_USERS_FILE[0], users_file)


def csrf_of(html: str) -> str:
    import re
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)
