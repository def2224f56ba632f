"""Woo requests, the pure part (core/duties/woo.py): lakken, the decision per record and its
ground, the inventory rows. Every expectation is written out by hand."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from archiefstroom import cli
from archiefstroom.core.duties import woo


def test_every_token_becomes_a_mark_with_its_ground():
    out = woo.lak("Bel [PERSOON-7f3a2c] op [TEL-91b0d4] (BSN [BSN-0a1b2c3d4e]) in [PLAATS-abcdef].")
    assert out.text == ("Bel [gelakt: 5.1.2e] op [gelakt: 5.1.2e] (BSN [gelakt: 5.1.1e]) in [gelakt: 5.1.2e].")
    assert out.grounds == Counter({"5.1.2e": 3, "5.1.1e": 1})


def test_tokens_of_the_default_length_and_of_old_keys_are_both_redacted():
    # 16 hex digits since issue 16; records made under an old key keep their 6
    out = woo.lak("[PERSOON-7f3a2c9d1e0b4a56] schreef [TEL-91b0d4e2a7c3f018] aan [PERSOON-7f3a2c]")
    assert out.text == "[gelakt: 5.1.2e] schreef [gelakt: 5.1.2e] aan [gelakt: 5.1.2e]"


def test_two_marks_of_one_person_cannot_be_linked():
    # the same token twice: the marks are identical to those of anyone else
    a = woo.lak("[PERSOON-111111] antwoordt [PERSOON-111111] en [PERSOON-222222]")
    assert a.text == "[gelakt: 5.1.2e] antwoordt [gelakt: 5.1.2e] en [gelakt: 5.1.2e]"


@pytest.mark.parametrize("text", [
    "[PERSOON-xyz123] is not hex", "[PERSOON-abc12] is too short", "[ONBEKEND-abcdef] is no label",
    "[PERSOON-ABCDEF] upper case is not a token", "geen token: [gelakt: 5.1.2e]", "",
])
def test_what_is_not_a_token_stays(text):
    out = woo.lak(text)
    assert out.text == text and out.grounds == Counter()


def test_lak_of_nothing():
    assert woo.lak(None).text is None


def test_a_token_inside_a_url_or_handle():
    out = woo.lak("https://x.example/[ACCOUNT-05a6b3]/1000365 en @[ACCOUNT-5d0b22]")
    assert out.text == "https://x.example/[gelakt: 5.1.2e]/1000365 en @[gelakt: 5.1.2e]"


def _record(event_type="reply", text=None, author=None, referenced=None, flags=(), fired=("R4-route-2",),
            publishable=True, mentions=(), version=None):
    return {
        "event": {"event_id": "x:42", "object_id": "x:42", "platform": "x", "event_type": event_type,
                  "account": {"id": "GemeenteAmsterdam", "handle": "GemeenteAmsterdam"},
                  "author": author or {"id": "[ACCOUNT-aaaaaa]", "handle": "[ACCOUNT-bbbbbb]",
                                       "display_name": "[PERSOON-cccccc]"},
                  "text": text, "referenced": referenced, "mentions": list(mentions), "hashtags": [], "urls": [],
                  "media": [], "url": "https://x.example/GemeenteAmsterdam/42",
                  "created_at": dt.datetime(2026, 10, 1, 8, 20, 49, tzinfo=dt.timezone.utc)},
        "record_version": 1,
        "decision": {"organisation": "Gemeente Amsterdam", "flags": list(flags), "publishable": publishable,
                     "version": version, "rules": [{"rule": r, "fired": True} for r in fired]},
    }


GOV = {"id": "GemeenteAmsterdam", "handle": "GemeenteAmsterdam", "display_name": "Gemeente Amsterdam"}


def test_a_citizens_reply_is_deels_openbaar():
    a = woo.assess(_record(text="Mijn nummer is [TEL-91b0d4], mijn BSN [BSN-0a1b2c]"), "archive/V-1.3/k.avro")
    assert a.decision == "deels openbaar"
    assert a.grounds == ("5.1.2e", "5.1.1e")
    assert a.marks == 3          # author, phone, BSN
    assert a.fields["auteur"] == "[gelakt: 5.1.2e]"
    assert a.fields["tekst"] == "Mijn nummer is [gelakt: 5.1.2e], mijn BSN [gelakt: 5.1.1e]"
    assert a.created == "2026-10-01T08:20:49+00:00"
    assert a.object_key == "archive/V-1.3/k.avro"
    assert a.ground_codes == "5.1.2e; 5.1.1e"
    assert "eerbiediging van de persoonlijke levenssfeer" in a.ground_text


def test_a_government_post_without_personal_data_is_openbaar():
    a = woo.assess(_record(event_type="post", text="Vanavond debat over de begroting", author=GOV,
                           fired=("R1-corporate-post",)), "k")
    assert (a.decision, a.grounds, a.marks) == ("openbaar", (), 0)
    assert a.fields == {"auteur": "Gemeente Amsterdam", "tekst": "Vanavond debat over de begroting",
                        "link": "https://x.example/GemeenteAmsterdam/42"}


def test_a_government_repost_of_a_third_party_is_niet_openbaar_and_its_content_withheld():
    ref = {"object_id": "x:41", "text": "Code oranje voor de kustprovincies", "url": "https://x.example/[ACCOUNT-05a6b3]/41",
           "author": {"id": "[ACCOUNT-05a6b3]", "handle": "[ACCOUNT-05a6b3]", "display_name": "[PERSOON-889783]"}}
    a = woo.assess(_record(event_type="repost", author=GOV, referenced=ref,
                           flags=("third_party_content", "not_publishable_without_review"),
                           fired=("R6-government-repost", "R1-corporate-post"), publishable=False), "k")
    assert a.decision == "niet openbaar"
    assert a.grounds == ("derde",)
    assert a.fields["gedeelde tekst"] == "[niet openbaar zonder beoordeling: inhoud van een derde]"
    assert a.fields["gedeeld bericht van"] == "[niet openbaar zonder beoordeling: inhoud van een derde]"
    assert not any("Code oranje" in v for v in a.fields.values())
    assert a.ground_text == "niet openbaar zonder beoordeling: inhoud van een derde die de overheid deelde (regel 6)"


def test_a_government_quote_keeps_its_own_words_and_withholds_the_third_party():
    ref = {"object_id": "x:41", "text": "Grote brand", "author": {"id": "nos", "handle": "nos"}}
    a = woo.assess(_record(event_type="quote", author=GOV, text="Let op, [PERSOON-abcdef]!", referenced=ref,
                           flags=("third_party_content",), fired=("R6-government-repost", "R1-corporate-post"),
                           publishable=False), "k")
    assert a.decision == "deels openbaar"
    assert a.grounds == ("5.1.2e", "derde")
    assert a.fields["tekst"] == "Let op, [gelakt: 5.1.2e]!"
    assert a.fields["gedeelde tekst"] == "[niet openbaar zonder beoordeling: inhoud van een derde]"


def test_not_publishable_alone_is_withheld_too():
    assert woo.is_third_party(_record(publishable=False, fired=("R1-corporate-post",)))
    assert woo.is_third_party(_record(fired=("R6-government-repost",)))
    assert not woo.is_third_party(_record())


def test_a_tombstone_says_so():
    a = woo.assess(_record(event_type="delete", version=3), "k")
    assert a.fields["status"].startswith("verwijderd door de auteur")
    assert a.version == 3 and a.decision == "deels openbaar"    # its author is a citizen


def test_mentions_are_lakt():
    a = woo.assess(_record(author=GOV, text="Dank", mentions=("[ACCOUNT-5d0b22]", "GemeenteUtrecht")), "k")
    assert a.fields["vermeldingen"] == "[gelakt: 5.1.2e], GemeenteUtrecht"
    assert a.decision == "deels openbaar"


def test_inventory_rows_and_summary():
    post = woo.assess(_record(event_type="post", text="Hallo", author=GOV), "k1")
    reply = woo.assess(_record(text="[PERSOON-abcdef] zegt hoi"), "k2")
    assert woo.inventory_rows([post, reply]) == [
        [1, "x:42", 1, "2026-10-01T08:20:49+00:00", "x", "GemeenteAmsterdam", "Gemeente Amsterdam", "post",
         "openbaar", "", 0],
        [2, "x:42", 1, "2026-10-01T08:20:49+00:00", "x", "GemeenteAmsterdam", "Gemeente Amsterdam", "reply",
         "deels openbaar", "5.1.2e", 2]]
    assert woo.summary([post, reply]) == {"openbaar": 1, "deels openbaar": 1, "niet openbaar": 0}


@pytest.mark.parametrize("good", ["WOO-2026-014", "a", "verzoek_3.1"])
def test_request_ids(good):
    assert woo.check_request_id(good) == good


@pytest.mark.parametrize("bad", ["", "../etc", "a b", "-x", "x" * 65, "woo/1"])
def test_bad_request_ids_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="request id: expected"):
        woo.check_request_id(bad)


@pytest.mark.parametrize("argv, message", [
    (["woo", "export", "--request-id", "W1", "--from", "2026-13-01", "--to", "2026-10-03", "--out", "x"],
     "--from: expected a date YYYY-MM-DD, got '2026-13-01'"),
    (["woo", "export", "--request-id", "W1", "--from", "2026-10-05", "--to", "2026-10-03", "--out", "x"],
     "--to (2026-10-03) is before --from (2026-10-05)"),
    (["woo", "export", "--request-id", "../W1", "--from", "2026-10-01", "--to", "2026-10-03", "--out", "x"],
     "request id: expected"),
])
def test_bad_cli_input_is_a_message_not_a_traceback(argv, message, capsys, tmp_path):
    argv = [*argv[:-1], str(tmp_path / "pkg")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "pkg").exists()
