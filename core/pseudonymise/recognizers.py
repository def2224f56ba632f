"""The project's own recognizers: validated identifiers, Dutch formats and evasions.

Pure regular expressions plus checksums (11-proef, mod 97), no lookup lists, so
they start instantly. They cover what deduce is weak at: IBAN, licence plates,
@handles, foreign and oddly written phone numbers, e-mail written as "at"/"punt",
zero-width characters and digits split by spaces or dots. Each recognizer takes
the *cleaned* text (see `clean`) and yields Entity spans into it; `find` maps them
back to offsets into the original text.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Callable, Iterable, Iterator

from archiefstroom.core.pseudonymise.entities import Entity

# ------------------------------------------------------------------ evasions

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2062\u2063"), None)


# every character str.isspace() calls white space (all of them lie below U+3001)
_BLANK = {c: " " for c in range(0x3001) if chr(c).isspace()}


def clean(text: str) -> tuple[str, list[int] | None]:
    """Drop invisible characters and fold look-alikes (NBSP, full-width digits) to ASCII.

    Returns the cleaned text and, when it differs in length, the map from each cleaned
    index to its original index (None means identity, the common ASCII case)."""
    if text.isascii():
        return text, None
    if unicodedata.is_normalized("NFKC", text) and len(text.translate(_INVISIBLE)) == len(text):
        # ordinary Dutch text with accents, curly quotes or emoji: nothing folds, only white space
        # becomes a blank (what the loop below does character by character, at a tenth of its cost)
        return text.translate(_BLANK), None
    out, index = [], []
    for i, ch in enumerate(text):
        if ord(ch) in _INVISIBLE:
            continue
        folded = unicodedata.normalize("NFKC", ch) if not ch.isalnum() or not ch.isascii() else ch
        if len(folded) != 1 or (ch.isalpha() and not folded.isalpha()):
            folded = ch
        out.append(" " if folded.isspace() else folded)
        index.append(i)
    return "".join(out), (index if len(index) != len(text) else None)


def to_original(entities: Iterable[Entity], index: list[int] | None) -> list[Entity]:
    if index is None:
        return list(entities)
    return [Entity(index[e.start], index[e.end - 1] + 1, e.label, e.source) for e in entities]


# ------------------------------------------------------------------ checksums

def bsn_valid(digits: str) -> bool:
    """11-proef: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11 (and not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    return total % 11 == 0


# ISO 13616 lengths for the countries citizens mention most (the check digits decide anyway)
IBAN_LENGTHS = {
    "NL": 18, "BE": 16, "DE": 22, "FR": 27, "ES": 24, "IT": 27, "GB": 22, "LU": 20, "AT": 20, "CH": 21,
    "PL": 28, "PT": 25, "IE": 22, "DK": 18, "SE": 24, "NO": 15, "FI": 18, "TR": 26, "MA": 28, "LT": 20,
    "LV": 21, "EE": 20, "CZ": 24, "SK": 24, "HU": 28, "RO": 24, "BG": 22, "GR": 27, "HR": 21, "SI": 19,
    "CY": 28, "MT": 31, "SR": 0,
}


def iban_valid(iban: str) -> bool:
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    numeric = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(numeric) % 97 == 1


# ------------------------------------------------------------------ recognizers

Recognizer = Callable[[str], Iterator[Entity]]
_SEP = r"[ .\-/()]{0,3}"          # what people put between digits (also to dodge filters)
_END = r"(?!\d)(?![.\-/]\d)"


_EMAIL = re.compile(r"(?<![\w.+\-@'])[\w.+\-']*\w@[\w\-]+(?:\.[\w\-]+)*\.[a-zA-Z]{2,24}(?![\w\-])")
# each separator has exactly one parse (no nested optional whitespace): no catastrophic backtracking
_DOT = r"(?:\s*+(?:[\(\[\{<]\s*+)?(?:punt|dot)\s*+(?:[\)\]\}>]\s*+)?|\.)"
_AT = r"(?:\s*[\(\[\{<]\s*(?:at|@|apenstaartje)\s*[\)\]\}>]\s*|\s+(?:at|apenstaartje|@)\s+|\s*@\s+|\s+@\s*)"
_TLD = r"(?:nl|com|net|org|be|de|eu|info|nu|io|fr|uk|me|online|email|live|mail)"
_EMAIL_EVASION = re.compile(
    rf"(?<![\w.+\-])[\w+\-]++(?:{_DOT}[\w+\-]++)*+{_AT}[\w\-]++(?:{_DOT}[\w\-]++)*?{_DOT}{_TLD}\b", re.I)


# role addresses of organisations ("info@gemeente.nl") identify no person and stay readable
ROLE_MAILBOXES = {"info", "contact", "klantenservice", "service", "support", "helpdesk", "webcare", "pers",
                  "press", "noreply", "no-reply", "secretariaat", "postbus", "receptie", "communicatie", "woo",
                  "klachten", "bezwaar", "privacy", "fg", "avg", "redactie", "tips"}


def emails(text: str) -> Iterator[Entity]:
    for m in _EMAIL.finditer(text):
        if m.group().split("@")[0].lower() not in ROLE_MAILBOXES:
            yield Entity(m.start(), m.end(), "EMAIL")
    for m in _EMAIL_EVASION.finditer(text):
        yield Entity(m.start(), m.end(), "EMAIL")


_PHONE_NL = re.compile(rf"(?<![\w+])(?:(?:\+|00){_SEP}31{_SEP}(?:\(0\){_SEP})?|\(?0{_SEP})[1-9](?:{_SEP}\d){{8,9}}{_END}")   # one digit too many is a typo, still a phone
_PHONE_INTL = re.compile(rf"(?<![\w+])(?:\+|00)(?!31)[1-9]\d{{0,2}}(?:{_SEP}\d){{6,12}}{_END}")
_SERVICE = ("0800", "0900", "0906", "0909", "088", "14")   # organisations' numbers stay readable


def phones(text: str) -> Iterator[Entity]:
    for m in _PHONE_NL.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        national = "0" + digits[2:].removeprefix("0") if digits.startswith("31") else \
            "0" + digits[4:].removeprefix("0") if digits.startswith("0031") else digits
        if not national.startswith(_SERVICE):
            yield Entity(m.start(), m.end(), "TEL")
    for m in _PHONE_INTL.finditer(text):
        yield Entity(m.start(), m.end(), "TEL")


_NINE_DIGITS = re.compile(r"(?<![\w.,\-/])\d(?:[ .\-]?\d){7,8}(?![\w])(?![.\-/]\d)")
_BSN_CONTEXT = re.compile(r"(?i)\b(?:bsn|burgerservice\s*nummer|burgerservicenr|sofi(?:nummer|nr)?)\b"
                          r"(?:\W+(?:is|was|nummer|nr|van|mijn|m'n|staat|luidt)){0,3}\W{0,6}$")


def bsns(text: str) -> Iterator[Entity]:
    for m in _NINE_DIGITS.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        context = _BSN_CONTEXT.search(text[max(0, m.start() - 40):m.start()])
        if (len(digits) == 9 and bsn_valid(digits)) or (context and len(digits) in (8, 9)):
            yield Entity(m.start(), m.end(), "BSN")


_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})[ \-.]?(\d{2})")


def ibans(text: str) -> Iterator[Entity]:
    for m in _IBAN_START.finditer(text):
        country = m.group(1).upper()
        need = IBAN_LENGTHS.get(country)
        if not need:
            continue
        chars, i = [country, m.group(2)], m.end()
        got = 4
        while got < need and i < len(text):
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                chars.append(ch.upper())
                got += 1
            elif ch not in " .-" or (i + 1 < len(text) and text[i + 1] in " .-"):
                break
            i += 1
        if got == need and not (i < len(text) and text[i].isascii() and text[i].isalnum()) \
                and iban_valid("".join(chars)):
            yield Entity(m.start(), i, "IBAN")


_POSTCODE_UPPER = re.compile(r"(?<![\w\-])(?<!\d[ .\-])[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\w\-])")
_POSTCODE_LOWER = re.compile(r"(?<![\w\-])(?<!\d[ .\-])[1-9]\d{3}(?!sa|sd|ss)[a-z]{2}(?![\w\-])")
_POSTCODE_SPACED = re.compile(r"(?<![\w\-])(?<!\d[ .\-])[1-9]\d{3} (?!sa|sd|ss)[a-z]{2}(?= [A-Z][a-z])")
_SHORT_WORDS = {"is", "en", "op", "in", "de", "te", "of", "na", "al", "nu", "zo", "ik", "je", "we", "ze", "om", "er",
                "ga", "uw", "ja", "en", "an", "at", "to", "on", "or", "by", "it", "as", "be", "if", "so", "no", "do"}
_UNITS = {"mg", "kg", "km", "cm", "mm", "ml", "dl", "cl", "gr", "st", "pk", "kw", "mb", "gb", "kb", "th", "nd", "rd",
          "ct", "hz", "am", "pm", "uu", "jr", "mi", "ms", "kj"}
_POSTCODE_CONTEXT = re.compile(r"(?i)(?:post\s*code|pc)\W{0,5}(?:(?:is|was|:|=|luidt|van\s+mij|nieuwe|oude)\W{0,3}){0,2}$")
# lower-case "2511 cv" (issue 15): the two letters must not be an ordinary two-letter word or unit
# ("in 2019 al", "1200 km", "2023 ff"), unless a postcode word or an address comes right before
_POSTCODE_LOWER_SPACED = re.compile(r"(?<![\w\-])(?<!\d[ .\-])[1-9]\d{3} (?!sa|sd|ss)[a-z]{2}(?![\w\-])(?![.,]\w)")
_TWO_LETTER_WORDS = _SHORT_WORDS | {
    "ff", "me", "ok", "oh", "eh", "ah", "he", "hé", "ie", "xd", "xx", "wa", "ge", "da", "zn", "mn", "dr", "mr", "nr",
    "nl", "eu", "vs", "tv", "pc", "ca", "oa", "us", "uk", "ov", "ns", "sr", "id", "hr", "mw", "pv", "cd", "dm", "hm",
    "ha", "ho", "ma", "pa", "mi", "la", "ne", "ex", "bv", "wc", "lp", "pr", "go", "up", "my", "hi", "am", "ur", "km",
    "jl", "zo", "du", "ka", "ro", "ok", "ps", "gr", "vd", "nv", "bn", "kl", "mb", "tm", "tl", "al", "eo", "dh"}
_ADDRESS_BEFORE = re.compile(r"[A-Za-z]{3,}\.?\s\d{1,4}(?:\s?-?\s?[a-zA-Z]{1,3}|\s?-\s?\d{1,3})?\s*,?\s*$")


def postcodes(text: str) -> Iterator[Entity]:
    for m in _POSTCODE_UPPER.finditer(text):
        yield Entity(m.start(), m.end(), "POSTCODE")
    for rx in (_POSTCODE_LOWER, _POSTCODE_SPACED):
        for m in rx.finditer(text):
            if m.group()[-2:] not in _UNITS and not (rx is _POSTCODE_SPACED and m.group()[-2:] in _SHORT_WORDS):
                yield Entity(m.start(), m.end(), "POSTCODE")
    for m in _POSTCODE_LOWER_SPACED.finditer(text):
        if m.group()[-2:] not in _TWO_LETTER_WORDS and m.group()[-2:] not in _UNITS \
                or _ADDRESS_BEFORE.search(text[max(0, m.start() - 40):m.start()]):
            yield Entity(m.start(), m.end(), "POSTCODE")
    for m in re.finditer(r"(?<![\w\-])[1-9]\d{3} ?[a-zA-Z]{2}(?![\w\-])", text):
        if _POSTCODE_CONTEXT.search(text[max(0, m.start() - 30):m.start()]):
            yield Entity(m.start(), m.end(), "POSTCODE")


# Dutch licence plates: the sidecodes in use since 1951 (L = letter, D = digit)
_SIDECODES = ["LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D", "D-LLL-DD",
              "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "D-LL-DDD", "L-DD-LLL", "DDD-LL-D"]


def _plate_regex(sep: str, letters: str) -> re.Pattern:
    parts = []
    for code in _SIDECODES:
        groups = [("[%s]" % letters if g[0] == "L" else r"\d") + "{%d}" % len(g) for g in code.split("-")]
        parts.append(sep.join(groups))
    return re.compile(r"(?<![\w\-])(?:%s)(?![\w\-])" % "|".join(parts))


_PLATE_DASH = _plate_regex("-", "A-Za-z")
_PLATE_SPACE = _plate_regex(" ", "A-Z")
_PLATE_BARE = _plate_regex("", "A-Z")
_PLATE_BARE_ANY = _plate_regex("", "A-Za-z")
_PLATE_CONTEXT = re.compile(r"(?i)\b(?:kenteken\w*|nummerbord|auto|wagen|bus|busje|scooter|motor|bestelbus|"
                            r"plaat|geflitst|parkeer\w*|aanrijding|bekeuring)\b\W{0,20}(?:\w+\W{1,3}){0,3}$")


def plates(text: str) -> Iterator[Entity]:
    for rx in (_PLATE_DASH, _PLATE_SPACE):
        for m in rx.finditer(text):
            yield Entity(m.start(), m.end(), "KENTEKEN")
    for m in _PLATE_BARE_ANY.finditer(text):
        v = m.group()
        if not any(c.isdigit() for c in v) or not any(c.isalpha() for c in v):
            continue
        bare_ok = _PLATE_BARE.fullmatch(v) and not re.fullmatch(r"\d{4}[A-Z]{2}", v)  # DDDDLL is a postcode
        if bare_ok or _PLATE_CONTEXT.search(text[max(0, m.start() - 60):m.start()]):
            yield Entity(m.start(), m.end(), "KENTEKEN")


_MONTHS = (r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
           r"jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec)\.?")
_DATE_NUM = re.compile(r"(?<![\w\-/.])(0?[1-9]|[12]\d|3[01])([-/.])(0?[1-9]|1[0-2])\2((?:19|20)\d{2}|\d{2})(?![\w\-/]|\.\d)")
_DATE_TEXT = re.compile(rf"(?i)(?<!\w)(0?[1-9]|[12]\d|3[01])\s*{_MONTHS}\s*((?:19|20)\d{{2}}|['’`]\d{{2}})(?!\w)")
_DATE_ISO = re.compile(r"(?<![\w\-])((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?![\w\-])")
_BIRTH_CONTEXT = re.compile(r"(?i)\b(?:geboren|geboortedatum|geb\.?\s*datum|geboortedag|verjaardag|verjaart|dob|born|"
                            r"geb\b|d\.o\.b\b)\.?[^!?\n]{0,25}$")


SHORT_YEAR_AHEAD = 5   # appointments, deadlines and plans are written up to this many years ahead


def birth_dates(text: str, *, today: dt.date | None = None) -> Iterator[Entity]:
    """A date with a birth word before it; or a full numeric date old enough to be one (year <= now - 12)."""
    latest = (today or dt.date.today()).year - 12
    for rx in (_DATE_NUM, _DATE_TEXT, _DATE_ISO):
        for m in rx.finditer(text):
            context = _BIRTH_CONTEXT.search(text[max(0, m.start() - 45):m.start()])
            year = m.group(1) if rx is _DATE_ISO else m.group(m.lastindex)
            full_old = rx is _DATE_NUM and len(year) == 4 and 1900 <= int(year) <= latest
            # "03/04/61": a two-digit year that can only be 19yy (20yy lies more than SHORT_YEAR_AHEAD years
            # ahead) is as old as a full 19yy date; "12-03-25" or "12-03-27" may be an appointment: those
            # only with a birth word (issue 15)
            short_old = rx is _DATE_NUM and len(year) == 2 and \
                2000 + int(year) > (today or dt.date.today()).year + SHORT_YEAR_AHEAD \
                and 1900 + int(year) <= latest and (m.group(2) != "." or len(m.group(1)) == len(m.group(3)) == 2)
            if context or full_old or short_old:
                yield Entity(m.start(), m.end(), "GEBOORTEDATUM")


_DOSSIER = re.compile(
    r"(?i)\b(?:dossier|zaak|kenmerk|referentie|ref|klant|aanvraag|order|relatie|polis|factuur|bezwaar|ticket|"
    r"aanslag|melding|meldings|registratie|contract|debiteur|lid|pas|document|paspoort|rijbewijs|vergunning|"
    r"beschikking|uitkerings|cliënt|client|case|aangifte|proces-verbaal|pv|betalingskenmerk|betalings)(?:nummer|nr|no|id)?\.?"
    r"(?:\s*(?:nummer|nr\.?|no\.?|#))?\s*[:#=]?\s*(?:is|was|met|van|:)?\s*"
    r"([A-Z0-9](?:[A-Z0-9]|[/\-.](?=[A-Z0-9]))*)")


# Police registration / proces-verbaal numbers (issue 15): "PL" + the region/unit part (two digits and
# two letters-or-digits: PL0900, PL07B3) + the year and six digits, often "-1" (the mutation).
# Source: Schadefonds Geweldsmisdrijven, "Proces-verbaalnummer vinden" (example PL07B3 2023123456-1).
_POLICE = re.compile(r"(?i)(?<![\w\-])PL[ ]?\d{2}[A-Z0-9]{2}[ \-/]?(?:19|20)\d{2}[ ]?\d{6}(?:-\d{1,2})?(?![\w\-])")
# A payment reference (betalingskenmerk, e.g. of the Belastingdienst): 16 digits, in groups of four or
# not. Never inside a longer digit run: "DE89 3704 0044 0532 0130 00" is an IBAN, not a reference.
_PAYMENT_REF = re.compile(r"(?<![\w.,\-/+])(?<!\d[ .\-])\d{4}([ .\-]?)\d{4}\1\d{4}\1\d{4}(?![\w])(?![ .\-/]?\d)")
# A case number written as year + number: "2024/123456", "2024-0012345" (a number of 5..8 digits, so
# no year range "2019-2023" and no ISO date)
_YEAR_CASE = re.compile(r"(?<![\w/\-.,])(?:19|20)\d{2}[/\-]\d{5,8}(?![\w]|[/\-.,]\d)")
_AFTER_YEAR = re.compile(r"[ /\-]\d{4,8}(?![\w]|[/\-.,]\d)")


def dossiers(text: str) -> Iterator[Entity]:
    for m in _DOSSIER.finditer(text):
        value = m.group(1)
        digits = sum(c.isdigit() for c in value)
        if re.fullmatch(r"(?:19|20)\d{2}", value):
            after = _AFTER_YEAR.match(text, m.end(1))   # "zaak 2024 123456": the year is part of it
            if after:
                yield Entity(m.start(1), after.end(), "DOSSIER")
            continue
        if _DATE_NUM.fullmatch(value) or _DATE_ISO.fullmatch(value):
            continue
        if digits >= 4 or (digits >= 3 and any(c.isalpha() for c in value)):
            yield Entity(m.start(1), m.end(1), "DOSSIER")
    for rx in (_POLICE, _PAYMENT_REF, _YEAR_CASE):
        for m in rx.finditer(text):
            yield Entity(m.start(), m.end(), "DOSSIER")


_SOCIAL = re.compile(
    r"(?i)(?<![\w\-.])(?:https?://)?(?:www\.|m\.|mobile\.)?(?P<host>x\.com|twitter\.com|facebook\.com|fb\.com|instagram\.com|"
    r"linkedin\.com|tiktok\.com|youtube\.com|threads\.net|bsky\.app|snapchat\.com|[\w\-]+(?:\.[\w\-]+)+(?=/@))"
    r"(?P<path>/[^\s<>\"')\]]*)")
_NOT_PROFILE = {"", "home", "search", "hashtag", "explore", "i", "share", "sharer", "watch", "events", "groups",
                "pages", "company", "school", "jobs", "feed", "tag", "tags", "reel", "p", "intent", "login",
                "policies", "help", "about", "legal", "privacy", "settings", "results", "channel", "playlist", "c"}


def profile_urls(text: str, keep: Callable[[str], bool] = lambda handle: False) -> Iterator[Entity]:
    """URLs that point at a person: profile pages, their posts, avatars. `keep(handle)` says a handle is public."""
    for m in _SOCIAL.finditer(text):
        path = m.group("path").rstrip(".,!?:;")
        segs = [s for s in path.split("/") if s]
        if not segs:
            continue
        first = segs[0].split("?")[0]
        if m.group("host").lower().startswith("linkedin") and first.lower() == "in" and len(segs) > 1:
            first = segs[1]
        elif m.group("host").lower() == "bsky.app" and first.lower() == "profile" and len(segs) > 1:
            first = segs[1]
        handle = first.lstrip("@").lower()
        if "profile.php" in first.lower():
            handle = path
        elif first.lower() in _NOT_PROFILE or keep(handle):
            continue
        end = m.start("path") + len(path)
        yield Entity(m.start(), end, "URL")


_MENTION = re.compile(r"(?<![\w@./\-])@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)(?:@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+))?")


def mentions(text: str, keep: Callable[[str], bool] = lambda handle: False) -> Iterator[Entity]:
    """@handles (and @user@instance) of accounts that are not known public accounts."""
    for m in _MENTION.finditer(text):
        handle = m.group(1) + (f"@{m.group(2)}" if m.group(2) else "")
        # as written: a keep test may read the case ("MinVWS"); the others lower-case it themselves
        if not any(keep(x) for x in (handle, handle.lower(), m.group(1), m.group(1).lower())):
            yield Entity(m.start(), m.end(), "ACCOUNT")


STREET_SUFFIX = (r"(?:straat|str|laan|ln|weg|wg|plein|pln|kade|gracht|singel|dijk|dyk|dreef|hof|pad|park|steeg|"
                 r"markt|baan|dam|plantsoen|wal|hout|veld|burg|erf|haven|kamp|lei|oord|poort|ring|rijn|sloot|"
                 r"straatweg|vaart|wijk|zoom|boulevard|allee|passage|promenade|brink|laantje|akker)")
_STREET = re.compile(
    rf"(?<![\w'’\-])((?:[A-Z][\w'’\-]*\s){{0,2}}[A-Za-z][\w'’\-]*{STREET_SUFFIX}\.?)\s(\d{{1,4}})(?:\s?-?\s?([a-zA-Z]|bis|hs|huis|I{{1,3}}|\d{{1,3}})(?![\w]))?(?![\w\-])")
_ADDRESS_CONTEXT = re.compile(r"(?i)\b(?:woon|woont|wonen|adres|verhuisd|op de|op het|aan de|aan het)\b[^.!?\n]{0,15}$")


def addresses(text: str) -> Iterator[Entity]:
    """Street + house number (the number makes it a person's address rather than a public place)."""
    for m in _STREET.finditer(text):
        street = m.group(1)
        words = street.split()
        # drop leading capitalised words that are not part of the street ("Ik Kerkstraat") unless lowercase street
        start = m.start(1)
        while len(words) > 1 and words[0].lower() in {"de", "het", "op", "aan", "in", "ik", "mijn", "we", "wij"}:
            start += len(words[0]) + 1
            words = words[1:]
        if words[-1][0].islower() and not _ADDRESS_CONTEXT.search(text[max(0, start - 30):start]) and len(words) > 1:
            continue
        yield Entity(start, m.end(), "ADRES")


_STREET_WORD = re.compile(rf"{STREET_SUFFIX}\b")
_PLACE_AFTER = re.compile(r"^(?:,\s*|\s+(?:in|te)\s+|\s+)((?:[A-Z][\w'’\-]+|'s-[A-Z][\w\-]+)(?:[ \-](?:aan|op|den|de|a/d|[A-Z][\w'’\-]+))*)")
_NOT_PLACE = {"De", "Het", "Een", "Ik", "En", "Maar", "Dus", "Wat", "Waarom", "Hoe", "Wie", "Graag", "Bedankt",
              "Groet", "Groetjes", "Mvg", "Dank", "Sinds", "Al", "Nu", "Hier", "Daar", "Mijn", "We", "Wij", "Jullie"}


def places_after(text: str, anchors: list[Entity]) -> Iterator[Entity]:
    """A place name right after an address or postcode is part of that address."""
    for a in anchors:
        if a.label not in ("ADRES", "POSTCODE"):
            continue
        m = _PLACE_AFTER.match(text[a.end:a.end + 60])
        if m and m.group(1).split()[0] not in _NOT_PLACE and not _STREET_WORD.search(m.group(1)):
            yield Entity(a.end + m.start(1), a.end + m.end(1), "WOONPLAATS")


STRUCTURED: dict[str, Recognizer] = {
    "EMAIL": emails, "TEL": phones, "BSN": bsns, "IBAN": ibans, "POSTCODE": postcodes, "KENTEKEN": plates,
    "GEBOORTEDATUM": birth_dates, "DOSSIER": dossiers, "ADRES": addresses,
}


def find(text: str, keep_handle: Callable[[str], bool] = lambda h: False,
         labels: Iterable[str] | None = None) -> list[Entity]:
    """All own-recognizer entities in `text`, offsets into the original text (not resolved for overlap).

    Short ASCII strings without '@' or '/' - where `keep_handle` cannot matter - are answered
    from a bounded cache: the rule ids, outcomes and inputs the earlier stages write into
    every record repeat across records and were a third of the pseudonymiser's time."""
    labels = None if labels is None else tuple(labels)
    if len(text) <= _CACHE_MAX_CHARS and "@" not in text and "/" not in text and text.isascii():
        return list(_find_static(text, labels, dt.date.today().year))
    return _find(text, keep_handle, labels)


_CACHE_MAX_CHARS = 200


@functools.lru_cache(maxsize=16384)
def _find_static(text: str, labels: tuple[str, ...] | None, year: int) -> tuple[Entity, ...]:
    return tuple(_find(text, lambda h: False, labels))   # `year`: birth-date plausibility moves with it


def _find(text: str, keep_handle: Callable[[str], bool], labels: tuple[str, ...] | None) -> list[Entity]:
    cleaned, index = clean(text)
    wanted = set(labels) if labels is not None else None
    found: list[Entity] = []
    for label, fn in STRUCTURED.items():
        if wanted is None or label in wanted:
            found.extend(fn(cleaned))
    if wanted is None or "URL" in wanted:
        found.extend(profile_urls(cleaned, keep_handle))
    if wanted is None or "ACCOUNT" in wanted:
        found.extend(mentions(cleaned, keep_handle))
    if wanted is None or "WOONPLAATS" in wanted:
        found.extend(places_after(cleaned, found))
    # a 9-digit run inside a phone number is the phone, not a BSN
    # (and 16 digits inside an IBAN are the IBAN, not a payment reference)
    tel = [e for e in found if e.label in ("TEL", "IBAN")]
    found = [e for e in found if not (e.label in ("BSN", "DOSSIER") and any(t.start <= e.start and e.end <= t.end for t in tel))]
    # "PL0100" of a police number is no bare licence plate
    police = [e for e in found if e.label == "DOSSIER" and _POLICE.fullmatch(cleaned, e.start, e.end)]
    if police:
        found = [e for e in found if not (e.label == "KENTEKEN" and any(p.start <= e.start and e.end <= p.end
                                                                        for p in police))]
    return to_original(found, index)
