"""The record page lists a record's media files and serves the stored ones, over a real SQLite
catalog (tests/web_cases.py) with the S3 reads replaced by the records and bytes themselves."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from archiefstroom.web.audit import AuditLog
from archiefstroom.web.store import Store
from tests import web_cases as wc
from tests.media_fake import FIXTURES
from tests.unit.test_web_pages import app_over_cases, cfg, login  # noqa: F401 (cfg: the pages' fixture)

SHA = "bb0f81f512c23c752cf0ffaa3094ab5e205bdcf0372854516cf68610680eea10"   # sha256sum gopher.png
KEY = f"archive/B-1.1-permanent/media/bb/{SHA}"
FILES = [
    {"url": "https://pbs.twimg.com/media/a.png", "kind": "media", "status": "stored", "reason": None, "attempts": 2,
     "object_key": KEY, "sha256": SHA, "content_type": "image/png", "size": 23019,
     "final_url": "https://pbs.twimg.com/media/a.png", "fetched_at": None},
    {"url": "https://pbs.twimg.com/media/b.png", "kind": "media", "status": "failed", "reason": "HTTP 404",
     "attempts": 1, "object_key": None, "sha256": None, "content_type": None, "size": None, "final_url": None,
     "fetched_at": None},
]


@pytest.fixture
def client_for(cfg):
    post = next(r for r in wc.records() if (r["event"]["event_id"], r["record_version"]) == ("x:100", 1))
    png = (FIXTURES / "gopher.png").read_bytes()
    app = app_over_cases(cfg, {("x:100", 1): {**post, "media_files": FILES}}, read_media={KEY: png}.get)

    def make(name):
        client = TestClient(app)
        assert login(client, name).status_code == 303
        return client
    return make


def test_the_record_page_lists_each_file_with_its_status(client_for):
    page = client_for("anna").get("/record", params={"id": "x:100", "versie": 1}).text
    assert "<h2 id=\"kop-bestanden\">Bestanden</h2>" in page
    assert f"<code>{SHA}</code>" in page and "22,5 KiB" in page and "(2 pogingen)" in page
    assert "niet bewaard: HTTP 404" in page
    assert 'href="/bestand?id=x%3A100&amp;versie=1&amp;nr=1" download' in page


def test_a_stored_file_is_served_as_an_attachment_and_the_view_audited(client_for, cfg):
    resp = client_for("anna").get("/bestand", params={"id": "x:100", "versie": 1, "nr": 1})
    assert resp.status_code == 200 and resp.content == (FIXTURES / "gopher.png").read_bytes()
    assert resp.headers["content-type"] == "image/png"
    assert resp.headers["content-disposition"] == f'attachment; filename="{SHA}.png"'
    entries = AuditLog(Store.open(cfg)).read(record="x:100")
    assert [e["page"] for e in entries][:1] == ["bestand"]


def test_only_the_record_s_own_stored_files_by_number(client_for):
    anna = client_for("anna")
    assert anna.get("/bestand", params={"id": "x:100", "versie": 1, "nr": 2}).status_code == 404   # the failed one
    assert anna.get("/bestand", params={"id": "x:100", "versie": 1, "nr": 0}).status_code == 404
    assert anna.get("/bestand", params={"id": "x:100", "nr": "../x"}).status_code == 400
    assert anna.get("/bestand", params={"id": "x:999", "nr": 1}).status_code == 404


def test_a_role_without_content_sees_neither_the_list_nor_the_file(client_for):
    olaf = client_for("olaf")
    assert olaf.get("/bestand", params={"id": "x:100", "versie": 1, "nr": 1}).status_code == 403
    anonymous = TestClient(client_for("anna").app)
    resp = anonymous.get("/bestand", params={"id": "x:100", "nr": 1}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
