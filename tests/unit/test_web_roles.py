"""The role matrix as enforced: every page asked by every role, over HTTP, with the status
written out by hand per role (403 is the server refusing, whatever the page links show)."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from archiefstroom.web import roles
from tests import web_cases as wc
from tests.unit.test_web_pages import app, cfg, login  # noqa: F401  (fixtures)

PAGES = ["/zoeken?q=stadhuis", "/draad?id=x:100", "/record?id=x:101", "/audit", "/status", "/"]
# role -> status of each page above, from the table in web/roles.py and docs/web.md
EXPECTED = {
    "archivist":       [200, 200, 200, 200, 200, 200],
    "webcare":         [200, 200, 200, 403, 403, 200],
    "operations":      [403, 403, 403, 403, 200, 200],
    "auditor":         [200, 200, 200, 200, 200, 200],
    "privacy_officer": [200, 200, 200, 200, 200, 200],
}
NAME_OF = {role: name for name, role in wc.USERS.items()}


def test_the_matrix_reads_as_written():
    assert roles.PERMISSIONS == {
        "search": {"archivist", "webcare", "auditor", "privacy_officer"},
        "thread": {"archivist", "webcare", "auditor", "privacy_officer"},
        "record": {"archivist", "webcare", "auditor", "privacy_officer"},
        "content": {"archivist", "webcare", "privacy_officer"},
        "trace": {"archivist", "privacy_officer"},
        "audit_log": {"archivist", "auditor", "privacy_officer"},
        "status": {"archivist", "operations", "auditor", "privacy_officer"},
    }
    assert not roles.may("nobody", "search") and not roles.may("archivist", "reidentify")
    assert roles.home("operations") == "/status" and roles.home("webcare") == "/zoeken"


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_gets_what_the_matrix_says(app, role):
    client = TestClient(app)
    assert login(client, NAME_OF[role]).status_code == 303
    got = [client.get(page, follow_redirects=False).status_code for page in PAGES]
    assert got == EXPECTED[role]


@pytest.mark.parametrize("role", ["webcare", "operations"])
def test_a_refusal_says_why_in_dutch_and_shows_nothing(app, role):
    client = TestClient(app)
    login(client, NAME_OF[role])
    r = client.get("/audit")
    assert r.status_code == 403
    assert "Geen toegang" in r.text and "geeft geen toegang tot deze pagina" in r.text
    assert "<table" not in r.text


def test_operations_cannot_open_a_record_or_thread_by_guessing_its_url(app):
    client = TestClient(app)
    login(client, "olaf")
    for url in ("/record?id=x:101&versie=1", "/draad?id=x:101", "/zoeken?q=stadhuis&versies=alle"):
        r = client.get(url)
        assert r.status_code == 403
        assert "stadhuis is" not in r.text and "x:101" not in r.text.replace("id=x:101", "")


def test_links_follow_the_matrix(app):
    """The menu shows only what the role may open (the server refuses the rest anyway)."""
    menus = {}
    for role in ("webcare", "operations", "auditor"):
        client = TestClient(app)
        login(client, NAME_OF[role])
        page = client.get("/").text
        menus[role] = [p for p in ("/zoeken", "/audit", "/status") if f'<a href="{p}"' in page.split("</nav>")[0]]
    assert menus == {"webcare": ["/zoeken"], "operations": ["/status"], "auditor": ["/zoeken", "/audit", "/status"]}


@pytest.mark.parametrize("page", PAGES[:-1])
def test_without_a_session_every_page_sends_to_the_login(app, page):
    r = TestClient(app).get(page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2F")
