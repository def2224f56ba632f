"""The web interface's pages over a real SQLite catalog (tests/web_cases.py), with the S3
read replaced by the records themselves: search and facets, threads, record detail
(versions, decision trace, retention, burgerbrief, integrity), the audit log, inert hostile
text, security headers and accessibility basics. Browser tests: tests/integration/test_web_browser.py."""
from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archiefstroom.catalog.index import Catalog
from archiefstroom.ground.config import Config
from archiefstroom.ground.settings import from_dict
from archiefstroom.web.app import create_app
from archiefstroom.web.audit import GENESIS, AuditLog
from archiefstroom.web.store import Store
from tests import web_cases as wc


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return from_dict({"data_dir": str(tmp_path), "catalog": {"url": "sqlite:///catalog.sqlite"},
                      "web": {"session_minutes": 30}}, Config).resolve_paths(tmp_path)


def app_over_cases(cfg, changed: dict | None = None, **kw):
    """The web app over the cases' catalog and users, S3 reads replaced by the cases' records
    (`changed`: (event id, version) -> a record to show instead)."""
    c = Catalog.open(cfg)
    c.index(wc.entries())
    c.close()
    wc.add_users(cfg.web.users_file)
    by_id = {(r["event"]["event_id"], r["record_version"]): r for r in wc.records()} | (changed or {})
    return create_app(cfg, read_record=lambda e: by_id[(e.event_id, e.record_version)], **kw)


@pytest.fixture
def app(cfg):
    return app_over_cases(cfg)


def login(client: TestClient, name: str, password: str = wc.PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"naam": name, "wachtwoord": password, "csrf": wc.csrf_of(page.text)},
                       follow_redirects=False)


@pytest.fixture
def as_user(app):
    def make(name: str) -> TestClient:
        client = TestClient(app)
        assert login(client, name).status_code == 303
        return client
    return make


def ids_on(page: str) -> list[str]:
    """Record ids linked from a result list, in order."""
    return re.findall(r'<h3><a href="/record\?id=[^"]+">([^<]+)</a></h3>', page)


def test_search_finds_by_any_version_and_lists_newest_first(as_user):
    page = as_user("anna").get("/zoeken", params={"q": "stadhuis"}).text
    assert ids_on(page) == [wc.EDIT_ID, "x:101"]
    assert "2 resultaten" in page


def test_search_with_all_versions_and_a_filter(as_user):
    client = as_user("anna")
    assert ids_on(client.get("/zoeken", params={"q": "stadhuis", "versies": "alle"}).text) == [wc.EDIT_ID, "x:101", "x:100"]
    assert ids_on(client.get("/zoeken", params={"platform": "mastodon", "versies": "alle"}).text) == [
        "mastodon:200:delete", "mastodon:200"]
    assert ids_on(client.get("/zoeken", params={"retentie": "1.3"}).text) == ["x:103", "x:101"]
    assert ids_on(client.get("/zoeken", params={"periode": "2026-04"}).text) == ["mastodon:200:delete"]
    assert ids_on(client.get("/zoeken", params={"van": "2026-03-03", "tot": "2026-04-10"}).text) == []
    assert ids_on(client.get("/zoeken", params={"burgerbrief": "ja"}).text) == ["x:101"]


def test_facets_count_and_link_their_filter(as_user):
    page = as_user("anna").get("/zoeken").text
    # the latest versions: edit of x:100, x:101, x:102, x:103 on x; the tombstone on mastodon
    assert re.search(r'platform=x">x</a> <span class="count">\(4\)</span>', page)
    assert re.search(r'platform=mastodon">mastodon</a> <span class="count">\(1\)</span>', page)
    assert re.search(r'periode=2026-03">maart 2026</a> <span class="count">\(4\)</span>', page)
    assert re.search(r'retentie=B">B \(blijvend bewaren\)</a> <span class="count">\(1\)</span>', page)
    assert re.search(r'soort=reply">reactie</a> <span class="count">\(3\)</span>', page)
    assert re.search(r'organisatie=Rijkswaterstaat">Rijkswaterstaat</a> <span class="count">\(1\)</span>', page)
    assert re.search(r'account=RijkswaterstaatNL">RijkswaterstaatNL</a>', page)


def test_bad_search_input_is_a_400_in_dutch(as_user):
    client = as_user("anna")
    r = client.get("/zoeken", params={"van": "gisteren"})
    assert r.status_code == 400 and "JJJJ-MM-DD" in r.text
    assert client.get("/zoeken", params={"soort": "<script>"}).status_code == 400


def test_thread_is_a_tree_of_latest_versions(as_user):
    page = as_user("anna").get("/draad", params={"id": "x:102"}).text
    # root (the edit: x:100's latest), under it x:101 (with x:102 under that) and x:103
    order = re.findall(r'<h2 class="node"><a href="/record\?[^"]+">([^<]+)</a>', page)
    assert order == [wc.EDIT_ID, "x:101", "x:102", "x:103"]
    nested = re.sub(r"\s+", " ", page)
    assert re.search(r"x:101</a>.*?<ul class=\"tree\">.*?x:102</a>.*?</ul>.*?x:103</a>", nested)
    assert "gevraagd" in page   # the asked-for node is marked


def test_unknown_thread_and_record_are_404(as_user):
    client = as_user("anna")
    assert client.get("/draad", params={"id": "x:999"}).status_code == 404
    assert client.get("/record", params={"id": "x:999"}).status_code == 404


def test_record_detail_shows_versions_trace_retention_burgerbrief_integrity(as_user):
    page = as_user("anna").get("/record", params={"id": "x:100", "versie": 1}).text
    assert "Het stadhuis is maandag gesloten wegens onderhoud" in page
    assert re.search(r'<a href="/record\?id=x%3A100%3Aedit%3A2026-03-02T10%3A00%3A00%2B00%3A00&amp;versie=1">', page)
    assert "(er is een nieuwere versie)" in page
    assert "Geëvalueerde regels (2 van 3 toegepast)" in page
    assert '<th scope="row">account_registered</th>' in page and "account=GemeenteVoorbeeld" in page
    assert "V (vernietigen na termijn)" in page and "2 maart 2036" in page
    assert "In orde: de opgeslagen ruwe gegevens komen overeen met hun SHA-256." in page
    assert '<a href="https://x.com/GemeenteVoorbeeld/status/100" rel="noopener noreferrer nofollow">' in page


def test_tombstone_and_burgerbrief_on_their_records(as_user):
    client = as_user("anna")
    tomb = client.get("/record", params={"id": "mastodon:200:delete"}).text
    assert "dit is de tombstone" in tomb and "blijvend (geen vernietigingsdatum)" in tomb
    assert "Watersnood 2026" in tomb
    assert re.search(r"<td>tombstone</td>", tomb)
    reply = client.get("/record", params={"id": "x:101"}).text
    assert "mogelijk een burgerbrief (score 0.87, model bb-3)" in reply
    assert "vraag aan de gemeente" in reply


def test_a_tampered_raw_payload_is_reported(as_user):
    page = as_user("anna").get("/record", params={"id": wc.TAMPERED_ID}).text
    assert "Afwijking: de opgeslagen ruwe gegevens komen niet overeen met hun SHA-256." in page
    # sha256sum of '{"id": "103"}' (as stored) and of the payload that is there now
    assert "<code>c539437e7ba263b1c4a91d2e1d814a6399de49207d8519e7103829d086b94267</code>" in page
    assert "<code>4faf4c1e3092ea558759e6950c0e7f019d1f1154626be85ab594463aa4e4be56</code>" in page
    assert "achteraf gewijzigd" not in page   # the raw payload itself is never shown


def test_a_record_whose_object_cannot_be_read_says_so(cfg, app):
    def broken(entry):
        raise FileNotFoundError("gone")
    broken_app = create_app(cfg, read_record=broken)
    client = TestClient(broken_app)
    assert login(client, "anna").status_code == 303
    page = client.get("/record", params={"id": "x:102"})
    assert page.status_code == 200
    assert "Het archiefobject kon niet worden gelezen (FileNotFoundError)." in page.text
    assert "Niet te controleren" in page.text


def test_every_record_and_thread_view_is_audited(cfg, as_user):
    wim = as_user("wim")
    wim.get("/record", params={"id": "x:101"})
    wim.get("/draad", params={"id": "x:100"})
    wim.get("/zoeken", params={"q": "stadhuis"})            # a search is not a record view
    as_user("olaf").get("/record", params={"id": "x:101"})  # refused (403): nothing was shown
    audit = AuditLog(Store.open(cfg))
    lines = audit.read()[::-1]
    assert [(l["seq"], l["user"], l["role"], l["page"], l["record"], l["record_version"]) for l in lines] == [
        (1, "wim", "webcare", "record", "x:101", 1), (2, "wim", "webcare", "thread", "x:100", None)]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", lines[0]["at"])
    assert lines[0]["prev"] == GENESIS and lines[1]["prev"] == lines[0]["hash"]
    assert audit.verify() == (True, 2, lines[1]["hash"], None)


def test_the_auditor_reads_the_audit_log_and_sees_no_text(as_user):
    as_user("wim").get("/record", params={"id": "x:102"})
    aud = as_user("aud")
    page = aud.get("/audit").text
    assert re.search(r"<td>wim</td><td>webcare</td>\s*<td>record</td>\s*<td>x:102 v1</td>", page)
    record = aud.get("/record", params={"id": "x:102"}).text
    assert "Wij leggen het u uit in een brief" not in record
    assert "Tekst, auteur en adres zijn voor uw rol niet zichtbaar." in record
    assert "Beslissing van de regels" not in record
    search = aud.get("/zoeken", params={"q": "brief"}).text
    assert ids_on(search) == ["x:102"] and "Wij leggen het u uit" not in search
    # the auditor's own views are logged too
    assert re.search(r"<td>aud</td><td>auditor</td>", aud.get("/audit").text)
    assert "wim" not in aud.get("/audit", params={"gebruiker": "aud"}).text.split("<tbody>")[1]


def test_webcare_sees_text_but_no_decision_trace(as_user):
    page = as_user("wim").get("/record", params={"id": "x:102"}).text
    assert "Wij leggen het u uit in een brief" in page
    assert "Beslissing van de regels" not in page and "account_registered" not in page


def test_operations_sees_counts_only(as_user):
    page = as_user("olaf").get("/status").text
    assert '<dd id="n-entries">7</dd>' in page and '<dd id="n-latest">5</dd>' in page
    assert "stadhuis" not in page


# -- hostile platform text -------------------------------------------------------------------
def test_hostile_text_is_escaped_everywhere(as_user):
    client = as_user("anna")
    pages = [client.get("/zoeken", params={"q": "stadhuis"}).text, client.get("/draad", params={"id": "x:101"}).text,
             client.get("/record", params={"id": "x:101"}).text]
    for page in pages:
        assert "<script>document.title" not in page and "<img src=x" not in page and "<svg onload" not in page
        assert "&lt;script&gt;document.title=&#39;gehackt&#39;&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=&#34;document.body.dataset.pwned=&#39;ja&#39;&#34;&gt;" in page
        assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in page
    record = pages[2]
    assert 'href="javascript:' not in record
    assert '<span class="inert">javascript:alert(document.cookie)</span>' in record


def test_security_headers_and_cookie_flags(app):
    client = TestClient(app)
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    posted = client.post("/login", data={"naam": "anna", "wachtwoord": wc.PASSWORD, "csrf": wc.csrf_of(r.text)},
                         follow_redirects=False)
    cookie = posted.headers["set-cookie"].lower()
    assert cookie.startswith("archiefstroom_sessie=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=1800" in cookie and "path=/" in cookie


# -- accessibility basics ----------------------------------------------------------------------
class _Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs, self.labels, self.html_lang, self.scripts, self.handlers = [], set(), None, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append(a.get("id"))
        if tag == "label":
            self.labels.add(a.get("for"))
        if tag == "script":
            self.scripts += 1
        self.handlers += [k for k in a if k.startswith("on")]


@pytest.mark.parametrize("user, url", [(None, "/login"), ("anna", "/zoeken?q=stadhuis"), ("anna", "/audit"),
                                       ("anna", "/record?id=x:101"), ("anna", "/draad?id=x:100"),
                                       ("anna", "/status"), ("anna", "/")])
def test_pages_are_dutch_labelled_and_scriptless(app, as_user, user, url):
    client = as_user(user) if user else TestClient(app)
    parsed = _Form()
    parsed.feed(client.get(url).text)
    assert parsed.html_lang == "nl"
    if url in ("/login", "/zoeken?q=stadhuis", "/audit"):
        assert parsed.inputs and None not in parsed.inputs
    assert [i for i in parsed.inputs if i not in parsed.labels] == []
    assert parsed.scripts == 0 and parsed.handlers == []


def _luminance(hex_colour: str) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colour_pairs_meet_wcag_aa():
    css = (Path(__file__).resolve().parents[2] / "web" / "static" / "style.css").read_text()
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    pairs = [("fg", "bg"), ("muted", "bg"), ("link", "bg"), ("fg", "panel"), ("muted", "panel"),
             ("accent-fg", "accent"), ("link", "panel")]
    low = {(a, b): round(_contrast(var[a], var[b]), 2) for a, b in pairs if _contrast(var[a], var[b]) < 4.5}
    assert low == {}
    assert _contrast("#ffffff", var["ok"]) >= 4.5 and _contrast("#ffffff", var["bad"]) >= 4.5


def test_focus_is_visible():
    css = (Path(__file__).resolve().parents[2] / "web" / "static" / "style.css").read_text()
    assert re.search(r":focus-visible\s*\{[^}]*outline:\s*3px solid", css)


def test_no_view_without_its_audit_entry(cfg, as_user, app):
    """If the audit entry cannot be written (here: the web's database session made read-only),
    the record is not shown."""
    client = as_user("anna")
    app.app.state.web.store.db.execute("PRAGMA query_only = ON")
    client = TestClient(app, raise_server_exceptions=False, cookies=dict(client.cookies))
    r = client.get("/record", params={"id": "x:102"})
    assert r.status_code == 500 and "Wij leggen het u uit" not in r.text
    assert "er is niets getoond" in r.text and r.headers["content-security-policy"].startswith("default-src")
    assert client.get("/draad", params={"id": "x:100"}).status_code == 500
    app.app.state.web.store.db.execute("PRAGMA query_only = OFF")
    assert "Wij leggen het u uit" in client.get("/record", params={"id": "x:102"}).text
    assert [(l["seq"], l["record"]) for l in AuditLog(Store.open(cfg)).read()] == [(1, "x:102")]


@pytest.mark.parametrize("url, link", [
    ("https://x.com/a/status/1", "https://x.com/a/status/1"),
    ("http://voorbeeld.nl/", "http://voorbeeld.nl/"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" javascript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None), ("vbscript:x", None), ("//evil.example/", None),
    ("https:/no-host", None), ("https://x.com/\nSet-Cookie", None), ("", None), (None, None)])
def test_only_http_urls_become_links(url, link):
    from archiefstroom.web.present import safe_link
    assert safe_link(url) == link
