"""Login, passwords, sessions and CSRF: the users table holds argon2id hashes only; a session
ends at logout and at expiry; every POST without this site's token is refused; the user
commands work from the command line. Users shared by two servers: tests/integration/test_web_shared.py."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from archiefstroom.ground import config
from archiefstroom.web.app import create_app
from archiefstroom.web.audit import AuditLog
from archiefstroom.web.sessions import Sessions, Throttle
from archiefstroom.web.store import Store
from archiefstroom.web.users import UserError, Users
from tests import web_cases as wc
from tests.unit.test_web_pages import app, cfg, login  # noqa: F401  (fixtures)


def post_login(client, token: str, headers: dict | None = None, **form):
    """The login form as anna's browser posts it, with `token` as its CSRF token (redirects
    are not followed: the tests look at the answer itself)."""
    return client.post("/login", data={"naam": "anna", "wachtwoord": wc.PASSWORD, "csrf": token, **form},
                       headers=headers, follow_redirects=False)


def test_the_users_table_holds_argon2id_hashes_in_a_private_file(cfg):
    users = Users(Store.open(cfg))
    users.add("anna", "archivist", "een lang wachtwoord")
    db_file = cfg.data_dir / "catalog.sqlite"
    with sqlite3.connect(db_file) as conn:
        ((name, role, hashed),) = conn.execute("SELECT name, role, hash FROM web_users").fetchall()
    assert (name, role) == ("anna", "archivist") and hashed.startswith("$argon2id$v=19$")
    assert b"een lang wachtwoord" not in db_file.read_bytes()
    assert db_file.stat().st_mode & 0o777 == 0o600
    assert users.verify("anna", "een lang wachtwoord").role == "archivist"
    assert users.verify("anna", "een lang wachtwoorD") is None
    assert users.verify("bert", "een lang wachtwoord") is None


def test_user_names_roles_and_passwords_are_checked(cfg):
    users = Users(Store.open(cfg))
    with pytest.raises(UserError, match="role"):
        users.add("anna", "admin", "een lang wachtwoord")
    with pytest.raises(UserError, match="at least 12"):
        users.add("anna", "archivist", "kort")
    with pytest.raises(UserError, match="user name"):
        users.add("Anna Smit", "archivist", "een lang wachtwoord")
    users.add("anna", "archivist", "een lang wachtwoord")
    with pytest.raises(UserError, match="exists"):
        users.add("anna", "auditor", "een ander wachtwoord")
    assert users.verify("anna", "een lang wachtwoord").role == "archivist"     # the refused add changed nothing
    users.add("anna", "auditor", "een ander wachtwoord", replace=True)
    assert [(u.name, u.role) for u in users.list()] == [("anna", "auditor")]
    assert users.verify("anna", "een lang wachtwoord") is None
    users.remove("anna")
    assert users.list() == []
    with pytest.raises(UserError, match="no user"):
        users.remove("anna")


def test_user_add_list_and_remove_on_the_command_line(tmp_path):
    conf = tmp_path / "archiefstroom.yaml"
    conf.write_text(f"data_dir: {tmp_path}\n")
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(conf), "web", "user"]
    added = subprocess.run([*cli, "add", "pia", "--role", "privacy_officer", "--password-stdin"],
                           input="geheim en lang genoeg\n", capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("pia: privacy_officer")
    refused = subprocess.run([*cli, "add", "pia", "--role", "archivist", "--password-stdin"],
                             input="geheim en lang genoeg\n", capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "exists" in refused.stderr
    listed = subprocess.run([*cli, "list"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and listed.stdout.split()[:2] == ["pia", "privacy_officer"]
    assert Users(Store.open(config.load(conf))).verify("pia", "geheim en lang genoeg").role == "privacy_officer"
    removed = subprocess.run([*cli, "remove", "pia"], capture_output=True, text=True, timeout=120)
    assert removed.returncode == 0, removed.stderr
    gone = subprocess.run([*cli, "remove", "pia"], capture_output=True, text=True, timeout=120)
    assert gone.returncode == 2 and "no user 'pia'" in gone.stderr
    assert Users(Store.open(config.load(conf))).list() == []


def test_verify_audit_on_the_command_line_finds_a_changed_entry(tmp_path):
    conf = tmp_path / "archiefstroom.yaml"
    conf.write_text(f"data_dir: {tmp_path}\n")
    audit = AuditLog(Store.open(config.load(conf)))
    audit.write(user="wim", role="webcare", page="record", record="x:101", version=1)
    head = audit.write(user="wim", role="webcare", page="thread", record="x:100")["hash"]
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(conf), "web", "verify-audit"]
    intact = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0 and f"intact: 2 entries, head {head}" in intact.stdout
    with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:      # past the trigger, as only DDL rights can
        conn.execute("DROP TRIGGER web_audit_no_update")
        conn.execute("UPDATE web_audit SET role = 'archivist' WHERE seq = 2")
    broken = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1 and "BROKEN: entry 2: changed after it was written" in broken.stderr


def test_a_wrong_password_is_refused_in_dutch(app):
    r = login(TestClient(app), "anna", "fout wachtwoord!!")
    assert r.status_code == 401 and "Onbekende gebruikersnaam of onjuist wachtwoord." in r.text
    assert "archiefstroom_sessie" not in r.headers.get("set-cookie", "")


def test_login_without_the_forms_token_or_its_cookie_is_refused(app):
    client = TestClient(app)
    page = client.get("/login")
    token = wc.csrf_of(page.text)
    no_token = client.post("/login", data={"naam": "anna", "wachtwoord": wc.PASSWORD})
    assert no_token.status_code == 403
    forged = post_login(client, token + "x")
    assert forged.status_code == 403
    # a token without the nonce cookie it was signed over (another browser's token)
    other = TestClient(app)
    assert post_login(other, token).status_code == 403


def test_a_post_from_another_site_is_refused(app):
    client = TestClient(app)
    token = wc.csrf_of(client.get("/login").text)
    r = post_login(client, token, headers={"origin": "https://evil.example"})
    assert r.status_code == 403


def test_logout_needs_the_sessions_token_and_ends_the_session(app):
    client = TestClient(app)
    assert login(client, "anna").status_code == 303
    page = client.get("/zoeken").text
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf": "geraden"}).status_code == 403
    assert client.get("/zoeken", follow_redirects=False).status_code == 200   # still logged in
    sid = client.cookies.get("archiefstroom_sessie")
    r = client.post("/logout", data={"csrf": wc.csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # the old cookie is worth nothing now, even if someone kept it
    replay = TestClient(app, cookies={"archiefstroom_sessie": sid})
    assert replay.get("/zoeken", follow_redirects=False).status_code == 303


def test_sessions_expire(cfg):
    now = [1_000_000.0]
    wc.add_users(cfg.web.users_file)
    expiring = create_app(cfg, read_record=lambda e: None, clock=lambda: now[0])
    client = TestClient(expiring)
    assert login(client, "anna").status_code == 303
    now[0] += 29 * 60
    assert client.get("/status", follow_redirects=False).status_code == 200
    now[0] += 2 * 60   # 31 minutes: past cfg.web.session_minutes (30)
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_a_forged_or_unknown_session_cookie_is_no_session(app):
    client = TestClient(app, cookies={"archiefstroom_sessie": "x" * 43})
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_block_the_name_for_a_while(app):
    client = TestClient(app)
    for _ in range(5):
        assert login(client, "wim", "niet mijn wachtwoord").status_code == 401
    blocked = login(client, "wim")      # the right password, too late
    assert blocked.status_code == 429 and "Te veel mislukte pogingen" in blocked.text
    assert login(client, "anna").status_code == 303   # other names are not blocked


def test_throttle_window_passes():
    now = [0.0]
    t = Throttle(attempts=2, window=60, clock=lambda: now[0])
    t.failed("a"), t.failed("a")
    assert t.blocked("a")
    now[0] = 61
    assert not t.blocked("a")


def test_after_login_only_a_local_page_is_the_next_stop(app):
    client = TestClient(app)
    page = client.get("/login", params={"next": "https://evil.example/"}).text
    r = post_login(client, wc.csrf_of(page), next="//evil.example/")
    assert r.headers["location"] == "/zoeken"
    client = TestClient(app)
    page = client.get("/login", params={"next": "/record?id=x:101"}).text
    assert 'name="next" value="/record?id=x:101"' in page
    r = post_login(client, wc.csrf_of(page), next="/record?id=x:101")
    assert r.headers["location"] == "/record?id=x:101"


def test_session_table_keeps_digests_not_cookies():
    s = Sessions(5)
    sid, _ = s.create("anna", "archivist")
    assert sid not in s._by_key and s.get(sid).user == "anna"
    s.end_user("anna")
    assert s.get(sid) is None


def test_a_post_the_browser_marks_cross_site_is_refused_even_with_a_token(app):
    client = TestClient(app)
    token = wc.csrf_of(client.get("/login").text)
    r = post_login(client, token, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    same = post_login(client, token, headers={"sec-fetch-site": "same-origin", "origin": "null"})
    assert same.status_code == 303


def test_removing_a_user_or_changing_the_role_ends_their_sessions(app, cfg):
    client, other = TestClient(app), TestClient(app)
    assert login(client, "wim").status_code == 303 and login(other, "anna").status_code == 303
    users = Users(Store.open(cfg))          # as `web user` does: its own connection
    users.add("wim", "operations", wc.PASSWORD, replace=True)
    assert client.get("/zoeken", follow_redirects=False).status_code == 303   # logged out, not webcare any more
    users.remove("anna")
    assert other.get("/zoeken", follow_redirects=False).status_code == 303
