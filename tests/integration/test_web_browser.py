"""The web interface end to end, in headless Chromium (Debian's package, driven by Playwright):
`archiefstroom web` serves a real SQLite catalog of records that sit as Avro objects in the
test stack's SeaweedFS S3 (tests/web_cases.py, hostile posts included); users are made with
`archiefstroom web user add`. An archivist logs in, searches, opens a thread and a record;
operations is refused; the auditor reads the archivist's views back. Screenshots are kept
in tests/artifacts/ (ignored by git).

Skipped, with the reason, only when /usr/bin/chromium is missing (scripts/setup installs it).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from archiefstroom import stack
from archiefstroom.archive import format as avro
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog.index import Catalog
from archiefstroom.core.catalog import entry_of
from archiefstroom.web.audit import AuditLog
from archiefstroom.web.store import Store
from tests import web_cases as wc
from tests.conftest import build_cfg, config_dict

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"archiefstroom web exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"archiefstroom web did not answer in {seconds:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def site(stack_cfg, stack_dir, tmp_path_factory):
    """The archive in S3, its catalog, five users and a running `archiefstroom web`."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (scripts/setup installs it as root)")
    tmp = tmp_path_factory.mktemp("web")
    name = "t" + uuid.uuid4().hex[:10]
    web = {"session_minutes": 20}
    cfg = build_cfg(stack_dir, name, web=web)
    stack.ensure(cfg)
    # the archive: the records as Avro objects in the bucket, one object per platform and day
    store = ArchiveStore(cfg.s3)
    objects: dict[str, list[dict]] = {}
    for rec in wc.records():
        ev = rec["event"]
        objects.setdefault(f"{cfg.s3.prefix}/{ev['platform']}/{ev['created_at']:%Y/%m/%d}/web-test.avro", []).append(rec)
    for key, recs in objects.items():
        store.put_records(key, avro.encode(recs, key), tags={}, retain_until=None, legal_hold=False, redo=False)
    # the catalog, indexed from what the bucket holds
    catalog = Catalog.open(cfg)
    catalog.index([entry_of(r, key) for key in objects for r in avro.decode(store.get(key))])
    catalog.close()
    conf = tmp / "archiefstroom.yaml"
    conf.write_text(yaml.safe_dump(config_dict(stack_dir, name, web=web)))
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(conf), "web"]
    for user, role in wc.USERS.items():
        made = subprocess.run([*cli, "user", "add", user, "--role", role, "--password-stdin"],
                              input=wc.PASSWORD + "\n", capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
    port = _free_port()
    log = tmp / "web.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*cli, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "ARCHIEFSTROOM_WEB_SECRET": "test-" + uuid.uuid4().hex})
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + "/login", proc, log)
        yield {"base": base, "cfg": cfg, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, site, user: str, password: str = wc.PASSWORD) -> None:
    page.goto(site["base"] + "/login")
    page.get_by_label("Gebruikersnaam").fill(user)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Aanmelden").click()


def nothing_ran(page) -> None:
    """The hostile post's script and onerror handler did not run."""
    assert page.evaluate("document.title") != "gehackt"
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("script").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    assert page.errors == []


def test_archivist_logs_in_searches_and_opens_a_thread_and_a_record(page, site):
    page.goto(site["base"] + "/zoeken")
    assert page.url.startswith(site["base"] + "/login?next=")
    shot(page, "01-login")
    log_in(page, site, "anna")
    page.wait_for_url(re.compile(r".*/zoeken$"))
    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_label("Zoektermen").fill("stadhuis")
    page.get_by_role("button", name="Zoeken", exact=True).click()
    page.wait_for_url(re.compile(r".*/zoeken\?q=stadhuis.*"))
    assert page.get_by_role("heading", name="2 resultaten").is_visible()
    hits = page.locator("ol.hits article h3").all_inner_texts()
    assert hits == [wc.EDIT_ID, "x:101"]
    # the hostile reaction's text is on the page as text
    assert "<script>document.title='gehackt'</script>" in page.locator("ol.hits").inner_text()
    nothing_ran(page)
    shot(page, "02-search")

    # a facet narrows the search
    page.locator("nav.facets").get_by_role("link", name="reactie", exact=True).click()
    assert page.locator("ol.hits article h3").all_inner_texts() == ["x:101"]

    page.get_by_role("link", name="Draad bekijken van x:101").click()
    page.wait_for_url(re.compile(r".*/draad\?id=x%3A101$"))
    nodes = page.locator("h2.node a").all_inner_texts()
    assert nodes == [wc.EDIT_ID, "x:101", "x:102", "x:103"]
    # x:102 answers x:101: it sits in the list under x:101's item
    assert page.locator("li.focus ul.tree h2.node a").all_inner_texts() == ["x:102"]
    nothing_ran(page)
    shot(page, "03-thread")

    page.get_by_role("link", name="x:101", exact=True).click()
    page.wait_for_url(re.compile(r".*/record\?id=x%3A101&versie=1$"))
    assert page.locator("#integriteit").inner_text() == (
        "In orde: de opgeslagen ruwe gegevens komen overeen met hun SHA-256.")
    assert page.get_by_role("heading", name="Beslissing van de regels").is_visible()
    assert page.locator("table.rules tbody tr.fired th").all_inner_texts() == ["account_registered",
                                                                                  "reaction_of_citizen"]
    assert "mogelijk een burgerbrief (score 0.87, model bb-3)" in page.locator("body").inner_text()
    assert page.get_by_text("javascript:alert(document.cookie)").is_visible()
    nothing_ran(page)
    shot(page, "04-record")


def test_record_versions_and_a_tampered_payload(page, site):
    log_in(page, site, "pia")
    page.wait_for_url(re.compile(r".*/zoeken$"))
    page.goto(site["base"] + "/record?id=x%3A100&versie=1")
    assert "(er is een nieuwere versie)" in page.locator("dl.facts").first.inner_text()
    page.get_by_role("link", name=f"{wc.EDIT_ID} v1").click()
    assert "maandag en dinsdag gesloten" in page.locator("p.text").inner_text()
    assert page.locator("table").first.locator("tbody tr").count() == 2
    page.goto(site["base"] + "/record?id=x%3A103")
    assert page.locator("#integriteit").inner_text().startswith("Afwijking:")
    shot(page, "05-tampered")
    page.goto(site["base"] + "/record?id=mastodon%3A200%3Adelete")
    assert "dit is de tombstone" in page.locator("dl.facts").first.inner_text()


def test_operations_is_refused_records_and_search(page, site):
    log_in(page, site, "olaf")
    page.wait_for_url(re.compile(r".*/status$"))
    assert page.locator("#n-entries").inner_text() == "7"
    for url in ("/zoeken?q=stadhuis", "/record?id=x%3A101", "/draad?id=x%3A100", "/audit"):
        response = page.goto(site["base"] + url)
        assert response.status == 403, url
        assert page.get_by_role("heading", name="Geen toegang").is_visible()
        assert "stadhuis is" not in page.locator("body").inner_text()
    shot(page, "06-refused")


def test_the_auditor_reads_who_viewed_what(page, site):
    log_in(page, site, "anna")
    page.wait_for_url(re.compile(r".*/zoeken$"))
    page.goto(site["base"] + "/record?id=x%3A102")
    page.goto(site["base"] + "/draad?id=x%3A102")
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(re.compile(r".*/login$"))
    log_in(page, site, "aud")
    page.wait_for_url(re.compile(r".*/zoeken$"))
    page.goto(site["base"] + "/audit?gebruiker=anna&record=x%3A102")
    rows = [r.split("\t") for r in page.locator("table tbody tr").all_inner_texts()]
    # newest first: the thread, then the record (who, role, page, record)
    assert [tuple(r[1:]) for r in rows[:2]] == [("anna", "archivaris", "draad", "x:102"),
                                                 ("anna", "archivaris", "record", "x:102 v1")]
    store = Store.open(site["cfg"])          # the server's users and audit log, in the catalog's database
    lines = AuditLog(store).read(record="x:102")[::-1]
    assert [(l["user"], l["role"], l["page"], l["record"]) for l in lines if l["user"] == "anna"][-2:] == [
        ("anna", "archivist", "record", "x:102"), ("anna", "archivist", "thread", "x:102")]
    assert AuditLog(store).verify()[0]
    store.close()
    shot(page, "07-audit")
    # and the auditor sees metadata, not the text
    page.goto(site["base"] + "/record?id=x%3A102")
    assert "Tekst, auteur en adres zijn voor uw rol niet zichtbaar." in page.locator("body").inner_text()
    assert "Wij leggen het u uit" not in page.locator("body").inner_text()


def test_keyboard_only_login_with_a_visible_focus(page, site):
    page.goto(site["base"] + "/login")
    assert page.evaluate("document.activeElement.id") == "naam"   # autofocus
    page.keyboard.type("wim")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "wachtwoord"
    page.keyboard.type(wc.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/zoeken$"))
    assert "Aangemeld als wim (webcare)" in page.locator("header").inner_text()
    # the first Tab on a page reaches the skip link, which shows where the focus is
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert page.evaluate("getComputedStyle(document.activeElement).left") != "-10000px"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"
    # from the content on: the search field, typed into and sent with Enter
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("brief")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/zoeken\?q=brief.*"))
    assert page.locator("ol.hits article h3").all_inner_texts() == ["x:102"]
    # webcare may not see the decision trace: the server leaves it out
    page.goto(site["base"] + "/record?id=x%3A101")
    assert page.get_by_role("heading", name="Beslissing van de regels").count() == 0
    # logging out, by keyboard: the button is reachable and works
    page.get_by_role("button", name="Afmelden").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/login$"))
    assert page.goto(site["base"] + "/zoeken").url.startswith(site["base"] + "/login")
