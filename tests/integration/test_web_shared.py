"""The web's users and audit log in the catalog's database (issue 16), on PostgreSQL (a real
server from the `postgres` fixture) and on SQLite (the embedded default): two web servers with
their own data_dir on one database see the same users and write one audit chain; the database
refuses UPDATE and DELETE of the audit log; the files of an earlier version are taken over
exactly once; a view whose audit entry cannot be written is refused."""
from __future__ import annotations

import hashlib
import json
import threading
import uuid

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from archiefstroom.catalog.index import Catalog
from archiefstroom.ground.catalog_db import open_url
from archiefstroom.ground.config import Config
from archiefstroom.ground.settings import from_dict
from archiefstroom.web.app import create_app
from archiefstroom.web.audit import GENESIS, AuditLog
from archiefstroom.web.store import Store
from archiefstroom.web.users import Users
from tests import web_cases as wc
from tests.unit.test_web_pages import login

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared' / 'catalog.sqlite'}"
    return request.getfixturevalue("postgres").create_database("web" + uuid.uuid4().hex[:8])


def config(data_dir, url: str) -> Config:
    return from_dict({"data_dir": str(data_dir), "catalog": {"url": url}}, Config).resolve_paths(data_dir)


@pytest.fixture
def two(tmp_path, url):
    """Two web servers, each with its own data_dir, on one catalog database."""
    cfgs = [config(tmp_path / name, url) for name in ("a", "b")]
    with Catalog.open(cfgs[0]) as c:
        c.index(wc.entries())
    by_id = {(r["event"]["event_id"], r["record_version"]): r for r in wc.records()}
    return cfgs, [create_app(cfg, read_record=lambda e: by_id[(e.event_id, e.record_version)]) for cfg in cfgs]


def raw(cfg: Config):
    return open_url(cfg.catalog.url, cfg.data_dir)


def test_two_servers_see_the_same_users_and_write_one_audit_chain(two):
    (cfg_a, cfg_b), (app_a, app_b) = two
    Users(app_a.app.state.web.store).add("anna", "archivist", wc.PASSWORD)
    a, b = TestClient(app_a), TestClient(app_b)
    assert login(b, "anna").status_code == 303            # added on a, logs in on b
    assert login(a, "anna").status_code == 303
    a.get("/record", params={"id": "x:101"})
    b.get("/draad", params={"id": "x:100"})
    a.get("/record", params={"id": "x:102"})
    for app in (app_a, app_b):
        audit = app.app.state.web.audit
        assert [(e["seq"], e["user"], e["page"], e["record"]) for e in audit.read()[::-1]] == [
            (1, "anna", "record", "x:101"), (2, "anna", "thread", "x:100"), (3, "anna", "record", "x:102")]
        assert audit.verify()[:2] == (True, 3)
    assert "x:100" in b.get("/audit").text                  # b's audit page lists a's views too
    # a role changed on b ends the session on a
    Users(app_b.app.state.web.store).add("anna", "webcare", wc.PASSWORD, replace=True)
    assert a.get("/zoeken", follow_redirects=False).status_code == 303


def test_appenders_on_two_connections_never_fork_the_chain(two):
    (cfg_a, cfg_b), _ = two
    stores = [Store.open(cfg_a), Store.open(cfg_b)]

    def views(n: int):
        audit = AuditLog(stores[n])
        for i in range(25):
            audit.write(user=f"u{n}", role="archivist", page="record", record=f"x:{i}", version=1)

    threads = [threading.Thread(target=views, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    audit = AuditLog(stores[0])
    ok, n, head, problem = audit.verify()
    assert (ok, n, problem) == (True, 50, None)
    entries = audit.read(limit=100)
    assert sorted(e["seq"] for e in entries) == list(range(1, 51)) and head == entries[0]["hash"]
    assert sorted((e["user"], e["record"]) for e in entries) == sorted(
        (f"u{n}", f"x:{i}") for n in (0, 1) for i in range(25))


def test_the_database_refuses_to_change_or_remove_audit_entries(two):
    (cfg_a, _), (app_a, _) = two
    audit = app_a.app.state.web.audit
    first = audit.write(user="anna", role="archivist", page="record", record="x:101", version=1)
    audit.write(user="anna", role="archivist", page="thread", record="x:100")
    db = raw(cfg_a)
    for sql in ("UPDATE web_audit SET user_name = 'iemand' WHERE seq = 1", "DELETE FROM web_audit WHERE seq = 1",
                "DELETE FROM web_audit"):
        with pytest.raises(Exception, match="append-only"):
            db.execute(sql)
        db.rollback()
    assert [e["user"] for e in audit.read()] == ["anna", "anna"] and audit.verify()[:2] == (True, 2)
    # someone who can drop the trigger still cannot change an entry unseen: the chain says where
    trigger = "DROP TRIGGER web_audit_append_only ON web_audit" if db.dialect == "postgresql" else \
        "DROP TRIGGER web_audit_no_update"
    db.execute(trigger)
    db.execute("UPDATE web_audit SET record = 'x:999' WHERE seq = 1")
    db.commit()
    assert audit.verify() == (False, 1, GENESIS, "entry 1: changed after it was written")
    assert first["prev"] == GENESIS
    db.close()


def test_the_files_of_an_earlier_version_are_taken_over_once(tmp_path, url):
    cfg = config(tmp_path / "old", url)
    anna, wim = PasswordHasher().hash("anna haar wachtwoord"), PasswordHasher().hash("wim zijn wachtwoord")
    cfg.web.users_file.parent.mkdir(parents=True)
    cfg.web.users_file.write_text(json.dumps({"users": {
        "wim": {"role": "webcare", "hash": wim, "created": "2025-11-03T09:00:00+00:00"},
        "anna": {"role": "archivist", "hash": anna, "created": "2025-10-01T08:30:00+00:00"}}}))
    lines = [
        '{"at": "2025-11-04T10:00:00.000+00:00", "page": "record", "record": "x:1", "record_version": 2, '
        '"role": "webcare", "user": "wim"}',
        '{"at": "2025-11-04T10:05:00.000+00:00", "page": "thread", "record": "x:1", "record_version": null, '
        '"role": "archivist", "user": "anna"}',
        '{"at": "2025-11-04T10:06:00.0',                                     # torn by a crash
        '{"at": "2025-11-05T07:00:00.000+00:00", "page": "record", "record": "m:7", "record_version": 1, '
        '"role": "archivist", "user": "anna"}']
    cfg.web.audit_log.write_text("\n".join(lines) + "\n")

    store = Store.open(cfg)
    users, audit = Users(store), AuditLog(store)
    assert [(u.name, u.role, u.created) for u in users.list()] == [
        ("anna", "archivist", "2025-10-01T08:30:00+00:00"), ("wim", "webcare", "2025-11-03T09:00:00+00:00")]
    assert users.verify("anna", "anna haar wachtwoord").role == "archivist"
    assert users.verify("wim", "anna haar wachtwoord") is None
    assert [(e["seq"], e["at"], e["user"], e["role"], e["page"], e["record"], e["record_version"])
            for e in audit.read()[::-1]] == [
        (1, "2025-11-04T10:00:00.000+00:00", "wim", "webcare", "record", "x:1", 2),
        (2, "2025-11-04T10:05:00.000+00:00", "anna", "archivist", "thread", "x:1", None),
        (3, "2025-11-05T07:00:00.000+00:00", "anna", "archivist", "record", "m:7", 1)]
    assert audit.verify()[:2] == (True, 3)
    taken = store.taken_over()
    assert (taken["users"]["imported"], taken["users"]["file"]) == (2, str(cfg.web.users_file))
    assert (taken["audit"]["imported"], taken["audit"]["skipped"]) == (3, 1)
    assert taken["audit"]["sha256"] == hashlib.sha256(cfg.web.audit_log.read_bytes()).hexdigest()

    # once: removing every user and opening again (a restart, a second server) imports nothing
    users.remove("anna")
    users.remove("wim")
    audit.write(user="pia", role="privacy_officer", page="record", record="x:1", version=2)
    store.close()
    again = Store.open(cfg)
    assert Users(again).list() == []
    assert [e["seq"] for e in AuditLog(again).read()] == [4, 3, 2, 1] and AuditLog(again).verify()[:2] == (True, 4)
    again.close()

    # a second server with users files of its own: the database took files over before, so not these
    other = config(tmp_path / "other", url)
    other.web.users_file.parent.mkdir(parents=True)
    other.web.users_file.write_text(json.dumps({"users": {
        "bert": {"role": "archivist", "hash": anna, "created": "2025-12-01T08:00:00+00:00"}}}))
    Users(Store.open(cfg)).add("eva", "auditor", wc.PASSWORD)
    third = Store.open(other)
    assert [u.name for u in Users(third).list()] == ["eva"] and set(third.taken_over()) == {"users", "audit"}


def test_a_view_whose_audit_entry_cannot_be_written_is_refused(two):
    (cfg_a, _), (app_a, _) = two
    Users(app_a.app.state.web.store).add("anna", "archivist", wc.PASSWORD)
    client = TestClient(app_a, raise_server_exceptions=False)
    assert login(client, "anna").status_code == 303
    db = app_a.app.state.web.store.db            # the web's own session, made read-only
    db.execute("PRAGMA query_only = ON" if db.dialect == "sqlite" else
               "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    db.commit()
    for url, params in (("/record", {"id": "x:102"}), ("/draad", {"id": "x:100"})):
        r = client.get(url, params=params)
        assert r.status_code == 500 and "er is niets getoond" in r.text and "Wij leggen het u uit" not in r.text
    assert AuditLog(Store.open(cfg_a)).read() == []
