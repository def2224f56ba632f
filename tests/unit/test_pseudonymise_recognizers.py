"""Own recognizers: checksums, Dutch formats, evasions - and what must NOT be found."""
from __future__ import annotations

import datetime as dt
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from archiefstroom.core.pseudonymise import recognizers as r
from archiefstroom.core.pseudonymise.entities import Entity, resolve
from archiefstroom.core.pseudonymise.recognizers import clean

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "archiefstroom-hypothesis")


def found(text, label=None, keep=lambda h: False):
    ents = resolve(r.find(text, keep))
    return [(e.label, text[e.start:e.end]) for e in ents if label is None or e.label == label]


# ---------------------------------------------------------------- BSN
@pytest.mark.parametrize("bsn", ["111222333", "123456782", "987654329"])
def test_bsn_valid_by_11_proef(bsn):
    assert r.bsn_valid(bsn)


@pytest.mark.parametrize("bsn", ["123456789", "111222334", "000000000", "12345678", "1234567820"])
def test_bsn_invalid(bsn):
    assert not r.bsn_valid(bsn)


@pytest.mark.parametrize("text,value", [
    ("mijn nummer 111222333 klopt niet", "111222333"),
    ("bsn: 123.456.782", "123.456.782"),
    ("Burgerservicenummer 987 654 329", "987 654 329"),
    ("bsn 3213 21 339 graag", "3213 21 339"),
])
def test_bsn_found_in_formats(text, value):
    assert ("BSN", value) in found(text)


def test_invalid_nine_digits_without_context_are_no_bsn():
    assert found("Ik heb 123456789 stappen gezet", "BSN") == []


def test_invalid_bsn_with_bsn_context_is_still_hidden():
    # a typo in a BSN is still somebody's BSN-like number next to the word bsn
    assert found("mijn bsn is 123456789", "BSN") == [("BSN", "123456789")]


# ---------------------------------------------------------------- IBAN
@pytest.mark.parametrize("iban", ["NL91ABNA0417164300", "NL20INGB0001234567", "BE68539007547034",
                                  "DE89370400440532013000"])
def test_iban_mod97_valid(iban):
    assert r.iban_valid(iban)


@pytest.mark.parametrize("iban", ["NL91ABNA0417164301", "NL00INGB0000000000", "XX91ABNA0417164300", "NL91ABNA04171643"])
def test_iban_invalid(iban):
    assert not r.iban_valid(iban)


@pytest.mark.parametrize("text,value", [
    ("op NL91ABNA0417164300 aub", "NL91ABNA0417164300"),
    ("rekening NL91 ABNA 0417 1643 00.", "NL91 ABNA 0417 1643 00"),
    ("iban nl20ingb0001234567", "nl20ingb0001234567"),
    ("BE68 5390 0754 7034 is Belgisch", "BE68 5390 0754 7034"),
])
def test_iban_formats(text, value):
    assert ("IBAN", value) in found(text)


def test_iban_with_bad_check_digits_not_found():
    assert found("betaald naar NL00INGB0000000000", "IBAN") == []


# ---------------------------------------------------------------- phone
@pytest.mark.parametrize("text,value", [
    ("bel 06-12345678!", "06-12345678"),
    ("bel 0612345678", "0612345678"),
    ("+31 6 2345 6789 graag", "+31 6 2345 6789"),
    ("(010) 412 34 56", "(010) 412 34 56"),
    ("0031 6 11 22 33 44", "0031 6 11 22 33 44"),
    ("nummer: +31(0)6-87654321", "+31(0)6-87654321"),
    ("app 06.44.55.66.77", "06.44.55.66.77"),
    ("0 6 1 2 3 4 5 6 7 8", "0 6 1 2 3 4 5 6 7 8"),
    ("+32 470 12 34 56", "+32 470 12 34 56"),
    ("020-14644234", "020-14644234"),        # one digit too many: a typo, still a phone
])
def test_phone_formats(text, value):
    assert ("TEL", value) in found(text)


def test_phone_with_zero_width_characters_maps_to_original_offsets():
    text = "mijn nr is 06\u200b-\u200b24681357 ok"
    (label, value), = found(text, "TEL")
    assert value == "06\u200b-\u200b24681357"


@pytest.mark.parametrize("text", ["Bel de BelastingTelefoon: 0800-0543", "bel 0900-8844", "In 2023 betaalde ik 1250 euro",
                                  "Bel 112 bij nood"])
def test_service_numbers_and_amounts_are_not_phones(text):
    assert found(text, "TEL") == []


# ---------------------------------------------------------------- e-mail
@pytest.mark.parametrize("text,value", [
    ("mail sanne.jansen@gmail.com", "sanne.jansen@gmail.com"),
    ("email me: jeroen punt willems at gmail punt com", "jeroen punt willems at gmail punt com"),
    ("pieter.visser [at] kpnmail [dot] nl is het", "pieter.visser [at] kpnmail [dot] nl"),
    ("mail naar anouk (at) outlook.com want", "anouk (at) outlook.com"),
    ("m.yilmaz @ hotmail.com graag", "m.yilmaz @ hotmail.com"),
    ("d.o'brien@protonmail.com", "d.o'brien@protonmail.com"),
])
def test_email_formats_and_evasions(text, value):
    assert ("EMAIL", value) in found(text)


def test_role_mailbox_of_an_organisation_stays():
    assert found("vragen naar info@rijksoverheid.nl", "EMAIL") == []


# ---------------------------------------------------------------- postcode, address, place
def test_postcode_and_address_with_place():
    text = "adres: Lindenlaan 3a, 1234 AB Zwolle"
    assert found(text) == [("ADRES", "Lindenlaan 3a"), ("POSTCODE", "1234 AB"), ("WOONPLAATS", "Zwolle")]


@pytest.mark.parametrize("text", ["in 2024 en 2025 was het druk", "neem 500 mg", "De Lindenlaan in Tilburg is dicht",
                                  "Ik kom uit Groningen"])
def test_no_address_data(text):
    assert [x for x in found(text) if x[0] in ("POSTCODE", "ADRES", "WOONPLAATS")] == []


# ---------------------------------------------------------------- plates
@pytest.mark.parametrize("text,value", [
    ("kenteken AB-12-CD staat", "AB-12-CD"), ("foutparkeerder 12-ABC-3", "12-ABC-3"),
    ("G-123-BB", "G-123-BB"), ("auto 1abc23 is gesleept", "1abc23"), ("99 ZT LP", "99 ZT LP"),
])
def test_plate_sidecodes(text, value):
    assert ("KENTEKEN", value) in found(text)


@pytest.mark.parametrize("text", ["De F-35 vloog laag", "COVID-19 regels", "een A4-tje", "MH17-herdenking", "op de A2",
                                  "postcode 3511AB"])
def test_not_plates(text):
    assert found(text, "KENTEKEN") == []


# ---------------------------------------------------------------- dates, dossiers, handles, urls
def test_birth_dates_need_context_or_age():
    today = dt.date(2026, 11, 1)
    assert [e.label for e in r.birth_dates("geboren op 12-03-1985", today=today)] == ["GEBOORTEDATUM"]
    assert [e.label for e in r.birth_dates("geb. 3 oktober 1961", today=today)] == ["GEBOORTEDATUM"]
    assert list(r.birth_dates("De brief is op 12-03-2025 verstuurd", today=today)) == []
    assert list(r.birth_dates("Op 5 mei 1945 was het bevrijding", today=today)) == []


def test_dossier_numbers_need_a_context_word():
    assert found("dossiernummer 2025-48213 graag", "DOSSIER") == [("DOSSIER", "2025-48213")]
    assert found("Zaaknummer: Z-2024-003311", "DOSSIER") == [("DOSSIER", "Z-2024-003311")]
    assert found("In 2025 heb ik 4 keer gebeld", "DOSSIER") == []
    assert found("lid van 2020", "DOSSIER") == []


def test_mentions_of_public_accounts_stay():
    keep = lambda h: h in {"rijksoverheid", "nos"}
    assert found("@Rijksoverheid en @jan_burger en @NOS", keep=keep) == [("ACCOUNT", "@jan_burger")]
    assert found("@piet@mastodon.social") == [("ACCOUNT", "@piet@mastodon.social")]


def test_profile_urls_but_not_government_pages():
    assert found("zie https://x.com/kees_74/status/1", "URL") == [("URL", "https://x.com/kees_74/status/1")]
    assert found("https://www.linkedin.com/in/jan-bakker-1234", "URL")
    assert found("https://mastodon.social/@henkvis", "URL")
    assert found("https://www.rijksoverheid.nl/onderwerpen/toeslagen") == []
    assert found("https://x.com/Rijksoverheid", keep=lambda h: h == "rijksoverheid") == []


def test_resolve_merges_overlaps_with_priority():
    ents = resolve([Entity(0, 10, "TEL"), Entity(5, 20, "IBAN"), Entity(30, 35, "PERSOON")])
    assert ents == [Entity(0, 20, "IBAN"), Entity(30, 35, "PERSOON")]


@pytest.mark.parametrize("text", ["a punt " * 2000, "a." * 5000, "a-" * 5000, "1-" * 5000, "0" * 5000,
                                  "jan (punt) " * 1500, "Aa " * 3000 + "straat 1"])
def test_adversarial_text_stays_linear(text):
    # a regex with nested optional parts once took minutes on "a punt a punt ..."; keep every recognizer linear
    import time
    t = time.perf_counter()
    r.find(text)
    assert time.perf_counter() - t < 2.0


def test_repeated_short_strings_answer_the_same_from_the_cache():
    # the second call of each is served from find()'s cache: same spans, and callers get their own list
    for _ in range(2):
        assert found("bsn 111222333") == [("BSN", "111222333")]
        assert found("mail jan punt jansen at gmail punt com") == [("EMAIL", "jan punt jansen at gmail punt com")]
        assert found("true") == []
    first = r.find("bel 0612345678")
    first.clear()
    assert [e.label for e in r.find("bel 0612345678")] == ["TEL"]


def test_handles_are_never_answered_from_the_cache():
    # keep_handle differs per record (the monitored account is public): '@' strings are always recomputed
    assert found("dank @piet_jansen", keep=lambda h: False) == [("ACCOUNT", "@piet_jansen")]
    assert found("dank @piet_jansen", keep=lambda h: h == "piet_jansen") == []
    assert found("dank @piet_jansen", keep=lambda h: False) == [("ACCOUNT", "@piet_jansen")]


def _clean_by_character(text: str):
    """The reference: `clean` as one loop over characters (its definition before the fast path for
    normalised text; ASCII text was, and is, returned as it is)."""
    if text.isascii():
        return text, None
    invisible = set(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2062\u2063"))
    out, index = [], []
    for i, ch in enumerate(text):
        if ord(ch) in invisible:
            continue
        folded = unicodedata.normalize("NFKC", ch) if not ch.isalnum() or not ch.isascii() else ch
        if len(folded) != 1 or (ch.isalpha() and not folded.isalpha()):
            folded = ch
        out.append(" " if folded.isspace() else folded)
        index.append(i)
    return "".join(out), (index if len(index) != len(text) else None)


# accents (precomposed and combining), curly quotes, emoji, every kind of white space, invisible
# characters, full-width digits and letters, ligatures, Hangul jamo, compatibility forms
_ALPHABET = ("abcXYZ019 .,@-\n\t\x1c\u00e9\u00eb\u00ef\u0301\u0308\u2018\u2019\u201c\u201d\u2026\U0001F600\u00a0"
             "\u2002\u2009\u202f\u3000\u2028\u0085\u200b\u200d\u00ad\ufeff\uff10\uff19\uff21\ufb01\u2460"
             "\u1100\u1161\u11a8\u00bd\u2122\u212b\u0130\u03a9\u2126")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_clean_matches_its_character_by_character_definition(text):
    assert clean(text) == _clean_by_character(text)


def test_clean_keeps_ordinary_dutch_text_and_folds_look_alikes():
    assert clean("Café “de Zwaan”, ’s avonds 😀") == ("Café “de Zwaan”, ’s avonds 😀", None)
    assert clean("bel 06\u00a012345678") == ("bel 06 12345678", None)
    assert clean("BSN \uff11\uff12\uff13") == ("BSN 123", None)
    assert clean("0\u200b6") == ("06", [0, 2])
