"""Deterministic sample data: Dutch government accounts, their posts and citizens' reactions.

Same seed, same bytes: the main job replays this into the raw topic, tests
count on it. It covers posts, replies (and replies to replies), reposts,
quotes, likes, edits, deletes, direct messages, citizen posts that mention an
organisation, a hybrid account, and some malformed lines for the dead-letter
path. Personal data in it is invented (names, phone numbers, BSNs that pass the
11-proef, IBANs that pass mod 97), so pseudonymisation can be checked end to end.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
from dataclasses import dataclass

CONNECTOR_VERSION = "sample-1"
BASE_TIME = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Acct:
    platform: str
    id: str
    handle: str
    name: str


ACCOUNTS = [
    Acct("mastodon", "@rijksoverheid@social.overheid.nl", "rijksoverheid@social.overheid.nl", "Rijksoverheid"),
    Acct("mastodon", "@gemeente_utrecht@social.overheid.nl", "gemeente_utrecht@social.overheid.nl", "Gemeente Utrecht"),
    Acct("x", "Rijksoverheid", "Rijksoverheid", "Rijksoverheid"),
    Acct("x", "GemeenteAmsterdam", "GemeenteAmsterdam", "Gemeente Amsterdam"),
    Acct("facebook", "Belastingdienst", "Belastingdienst", "Belastingdienst"),
    Acct("instagram", "politie", "politie", "Politie"),
    Acct("youtube", "Rijksoverheid", "Rijksoverheid", "Rijksoverheid"),
    Acct("bluesky", "rijksoverheid.bsky.social", "rijksoverheid.bsky.social", "Rijksoverheid"),
    Acct("linkedin", "ministerie-van-bzk", "ministerie-van-bzk", "Ministerie van BZK"),
]
HYBRID = Acct("x", "burgemeester_halsema", "burgemeester_halsema", "Femke Halsema")
PRIVATE = Acct("x", "jan_burger", "jan_burger", "Jan Burger")

FIRST = ["Jan", "Sanne", "Mohammed", "Fatima", "Kees", "Anouk", "Daan", "Priya", "Wim", "Lotte", "Youssef",
         "Ingrid", "Bram", "Esra", "Henk", "Noor", "Thijs", "Mila", "Sven", "Aylin", "Pieter", "Emma"]
LAST = ["de Vries", "Jansen", "van den Berg", "Bakker", "El Amrani", "Visser", "Smit", "de Jong", "Meijer",
        "van Dijk", "Yilmaz", "Mulder", "de Boer", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen"]
STREETS = ["Kerkstraat", "Dorpsweg", "Stationsplein", "Lindenlaan", "Molenweg", "Julianastraat", "Oranjestraat"]
CITIES = ["Utrecht", "Amsterdam", "Zwolle", "Tilburg", "Groningen", "Almere", "Leiden", "Enschede"]

POSTS = [
    "Vanaf 1 januari verandert de {regeling}. Lees op onze website wat dit voor u betekent.",
    "Let op: er worden nepmails verstuurd namens {org}. Wij vragen nooit om uw inloggegevens. #phishing",
    "Vandaag start de consultatie over {onderwerp}. Praat mee tot en met 15 december!",
    "De {regeling} wordt dit jaar voor het eerst automatisch uitbetaald. Vragen? Bel ons of kijk op de site.",
    "Het kabinet investeert extra in {onderwerp}. Minister licht de plannen vandaag toe. #kamerbrief",
    "Werkzaamheden aan de {straat} duren langer dan gepland. Excuses voor het ongemak.",
    "Storm verwacht! Blijf binnen en volg de adviezen van de veiligheidsregio. #code_oranje",
]
REGELINGEN = ["huurtoeslag", "zorgtoeslag", "kinderopvangtoeslag", "energietoeslag", "WOZ-waarde", "AOW-uitkering"]
ONDERWERPEN = ["woningbouw", "de energietransitie", "digitale overheid", "jeugdzorg", "stikstof", "het OV"]

BURGERBRIEF = [
    "Mijn {regeling} is nog steeds niet uitbetaald terwijl ik al drie maanden wacht. Kunnen jullie mij bellen op {tel}?",
    "Ik heb op 3 oktober bezwaar gemaakt tegen mijn aanslag (dossiernummer {dossier}) maar nooit iets gehoord. Wat is de status?",
    "Beste {org}, graag wil ik een klacht indienen over de behandeling van mijn aanvraag. Mail mij op {email}",
    "Hoe kan ik mijn {regeling} aanvragen als ik geen DigiD heb? Ik woon sinds kort op de {straat} {nr} in {stad}.",
    "Ik dien hierbij een Woo-verzoek in voor alle documenten over {onderwerp} uit 2025.",
    "Mijn BSN is {bsn} en ik krijg steeds een foutmelding bij het aanvragen van de {regeling}. Help alsjeblieft!",
    "Er ligt al een week een omgevallen boom op de {straat} in {stad}, kan iemand daar naar kijken?",
    "Kunnen jullie het bedrag terugstorten op {iban}? Ik heb twee keer betaald.",
]
OPINION = [
    "Wat een onzin weer. Eerst zien dan geloven 🙄",
    "Goed nieuws! Eindelijk 👏",
    "Haha ja hoor, en wie gaat dat betalen? Wij natuurlijk.",
    "Dit kabinet kan echt niks 😡😡",
    "@{friend} zag je dit? Gaan we dat doen?",
    "Top, dank voor de info!",
    "Ik snap niet dat mensen hier nog in trappen.",
    "Mooi initiatief, succes ermee",
    "lol 😂",
    "Waarom duurt alles in dit land toch zo lang...",
]
THIRD_PARTY = [
    ("knmi", "KNMI", "Code oranje voor de kustprovincies vanwege zware windstoten."),
    ("nos", "NOS", "Kabinet presenteert plannen voor 100.000 extra woningen."),
    ("veiligheidsregio_utr", "Veiligheidsregio Utrecht", "Grote brand in bedrijfspand, houd ramen en deuren gesloten."),
]


def _bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1)))
        last = total % 11
        if last < 10 and digits[0] != 0:
            return "".join(map(str, digits)) + str(last)


def _iban(rng: random.Random) -> str:
    bank = rng.choice(["INGB", "RABO", "ABNA", "SNSB", "TRIO"])
    account = "".join(str(rng.randint(0, 9)) for _ in range(10))
    numeric = "".join(str(int(c, 36)) for c in f"{bank}{account}NL00")
    check = 98 - int(numeric) % 97
    return f"NL{check:02d}{bank}{account}"


def _tel(rng: random.Random) -> str:
    return rng.choice(["06-{a}{b}", "06 {a} {b}", "+31 6 {a}{b}", "020-{a}{b}"]).format(
        a=rng.randint(1000, 9999), b=rng.randint(1000, 9999))


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.n = 0
        self.events: list[bytes] = []
        self.clock = BASE_TIME
        self.personal: set[str] = set()   # every invented personal value, for leak tests

    def next_id(self) -> str:
        self.n += 1
        return str(1_000_000 + self.n)

    def tick(self, minutes: float) -> dt.datetime:
        self.clock += dt.timedelta(minutes=minutes)
        return self.clock

    def person(self) -> dict:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        handle = (first + last.split()[-1]).lower() + str(self.rng.randint(1, 99))
        person = {"id": f"u{self.rng.randint(10_000, 99_999)}", "handle": handle, "display_name": f"{first} {last}",
                  "profile_url": f"https://example.social/@{handle}",
                  "avatar_url": f"https://cdn.example.social/avatars/{handle}.png"}
        self.personal.update(person.values())
        return person

    def fill(self, template: str, acct: Acct) -> str:
        r = self.rng
        v = dict(regeling=r.choice(REGELINGEN), onderwerp=r.choice(ONDERWERPEN), org=acct.name, straat=r.choice(STREETS),
                 nr=r.randint(1, 200), stad=r.choice(CITIES), tel=_tel(r),
                 dossier=f"{r.randint(2024, 2026)}-{r.randint(10000, 99999)}",
                 email=f"{r.choice(FIRST).lower()}.{r.choice(LAST).split()[-1].lower()}@"
                       f"{r.choice(['gmail.com', 'hotmail.nl', 'ziggo.nl'])}",
                 bsn=_bsn(r), iban=_iban(r), friend=r.choice(FIRST).lower() + str(r.randint(1, 99)))
        used = {k for k in v if "{" + k + "}" in template}
        self.personal.update(str(v[k]) for k in ("tel", "dossier", "email", "bsn", "iban") if k in used)
        if "straat" in used and "nr" in used:
            self.personal.add(f"{v['straat']} {v['nr']}")
        if "friend" in used:
            self.personal.add(v["friend"])
        return template.format(**v)

    def emit(self, acct: Acct, *, native_id: str, event_type: str, author: dict, text: str | None,
             created: dt.datetime, in_reply_to: str | None = None, root: str | None = None,
             referenced: dict | None = None, event_id: str | None = None, object_id: str | None = None,
             edited_at: dt.datetime | None = None, reaction_kind: str | None = None) -> dict:
        native = {"id": native_id, "type": event_type, "account": author, "text": text,
                  "created_at": created.isoformat(), "in_reply_to_id": in_reply_to, "page": acct.id}
        if edited_at:
            native["edited_at"] = edited_at.isoformat()
        if referenced:
            native["referenced"] = referenced
        payload = json.dumps(native, ensure_ascii=False, separators=(",", ":"))
        words = (text or "").split()
        event = {
            "event_id": event_id or f"{acct.platform}:{native_id}",
            "object_id": object_id or f"{acct.platform}:{native_id}",
            "platform": acct.platform, "native_id": native_id, "event_type": event_type,
            "account": {"id": acct.id, "handle": acct.handle, "display_name": acct.name},
            "author": author,
            "in_reply_to": f"{acct.platform}:{in_reply_to}" if in_reply_to else None,
            "thread_root": f"{acct.platform}:{root}" if root else None,
            "referenced": referenced,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "captured_at": (created + dt.timedelta(seconds=self.rng.randint(1, 90))).isoformat().replace("+00:00", "Z"),
            "edited_at": edited_at.isoformat().replace("+00:00", "Z") if edited_at else None,
            "text": text, "language": "nl",
            "url": f"https://{acct.platform}.example/{acct.handle}/{native_id}",
            "hashtags": [w.strip(".,!?").lstrip("#") for w in words if w.startswith("#")],
            "mentions": [w.strip(".,!?").lstrip("@") for w in words if w.startswith("@")],
            "urls": [], "media": [], "reaction_kind": reaction_kind,
            "raw": {"payload": payload, "sha256": hashlib.sha256(payload.encode()).hexdigest(),
                    "content_type": "application/json"},
            "connector": {"name": f"archiefstroom-{acct.platform}", "version": CONNECTOR_VERSION},
        }
        self.events.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode())
        return event

    def gov_author(self, acct: Acct) -> dict:
        return {"id": acct.id, "handle": acct.handle, "display_name": acct.name,
                "profile_url": f"https://{acct.platform}.example/{acct.handle}", "avatar_url": None}


DEFAULT_SEED = 20261001


def generate(seed: int = DEFAULT_SEED, threads_per_account: int = 16) -> list[bytes]:
    return generate_with_personal(seed, threads_per_account)[0]


def generate_with_personal(seed: int = DEFAULT_SEED, threads_per_account: int = 16) -> tuple[list[bytes], set[str]]:
    """The sample set and every personal value invented for it (names, handles, phones, ...)."""
    """The sample set as raw-topic values, in append order."""
    g = _Gen(seed)
    r = g.rng
    for round_ in range(threads_per_account):
        for acct in ACCOUNTS:
            created = g.tick(r.uniform(5, 40))
            post_id = g.next_id()
            post = g.emit(acct, native_id=post_id, event_type="post", author=g.gov_author(acct),
                          text=g.fill(r.choice(POSTS), acct), created=created)
            if r.random() < 0.15:  # edit of the post
                edited = created + dt.timedelta(minutes=r.randint(2, 30))
                g.emit(acct, native_id=post_id, event_type="edit", author=g.gov_author(acct),
                       text=post["text"] + " (aangepast)", created=created, edited_at=edited,
                       event_id=f"{acct.platform}:{post_id}:edit:{edited.isoformat()}")
                # chains of versions (rule 10): a second edit, sometimes a delete; their own random
                # stream, so the rest of the sample stays as it was
                more = random.Random(f"{seed}:{post_id}")
                if more.random() < 0.5:
                    edited += dt.timedelta(minutes=more.randint(5, 90))
                    g.emit(acct, native_id=post_id, event_type="edit", author=g.gov_author(acct),
                           text=post["text"] + " (aangepast, tweede keer)", created=created, edited_at=edited,
                           event_id=f"{acct.platform}:{post_id}:edit:{edited.isoformat()}")
                if more.random() < 0.25:
                    g.emit(acct, native_id=post_id, event_type="delete", author=g.gov_author(acct), text=None,
                           created=edited + dt.timedelta(minutes=more.randint(5, 600)),
                           event_id=f"{acct.platform}:{post_id}:delete")
            replies = []
            for _ in range(r.randint(4, 12)):
                author = g.person()
                parent = post_id if not replies or r.random() < 0.6 else r.choice(replies)
                text = g.fill(r.choice(BURGERBRIEF if r.random() < 0.3 else OPINION), acct)
                rid = g.next_id()
                g.emit(acct, native_id=rid, event_type="reply", author=author, text=text,
                       created=g.tick(r.uniform(0.2, 4)), in_reply_to=parent, root=post_id)
                replies.append(rid)
                if r.random() < 0.25:  # the organisation answers (webcare)
                    g.emit(acct, native_id=g.next_id(), event_type="reply", author=g.gov_author(acct),
                           text="Vervelend om te horen. Wilt u ons een privébericht sturen met uw gegevens? ^AB",
                           created=g.tick(r.uniform(1, 20)), in_reply_to=rid, root=post_id)
                if r.random() < 0.08:  # the citizen deletes the reply
                    g.emit(acct, native_id=rid, event_type="delete", author=author, text=None,
                           created=g.tick(r.uniform(1, 30)), event_id=f"{acct.platform}:{rid}:delete")
            for _ in range(r.randint(2, 10)):  # likes
                liker = g.person()
                g.emit(acct, native_id=post_id, event_type="reaction", author=liker, text=None,
                       created=g.tick(r.uniform(0.1, 2)), in_reply_to=post_id, root=post_id,
                       reaction_kind="like", event_id=f"{acct.platform}:{post_id}:reaction:{liker['id']}")
            if r.random() < 0.3:  # a government repost of a third party
                handle, name, text = r.choice(THIRD_PARTY)
                ref_id = g.next_id()
                g.emit(acct, native_id=g.next_id(), event_type="repost", author=g.gov_author(acct), text=None,
                       created=g.tick(r.uniform(1, 10)),
                       referenced={"object_id": f"{acct.platform}:{ref_id}", "text": text,
                                   "url": f"https://{acct.platform}.example/{handle}/{ref_id}",
                                   "author": {"id": handle, "handle": handle, "display_name": name,
                                              "profile_url": None, "avatar_url": None}})
            if r.random() < 0.2:  # a citizen quotes the post
                author = g.person()
                g.emit(acct, native_id=g.next_id(), event_type="quote", author=author,
                       text=g.fill(r.choice(OPINION + BURGERBRIEF), acct), created=g.tick(r.uniform(1, 10)),
                       referenced={"object_id": f"{acct.platform}:{post_id}", "text": post["text"], "url": post["url"],
                                   "author": g.gov_author(acct)})
            if r.random() < 0.1:  # a direct message (out of scope, counted)
                g.emit(acct, native_id=g.next_id(), event_type="direct_message", author=g.person(),
                       text=g.fill(r.choice(BURGERBRIEF), acct), created=g.tick(1))
        # a hybrid account posts, sometimes with its filter hashtag
        tag = " #gemeenteraad" if round_ % 2 == 0 else ""
        g.emit(HYBRID, native_id=g.next_id(), event_type="post", author=g.gov_author(HYBRID),
               text=f"Vanavond debat over {r.choice(ONDERWERPEN)}{tag}", created=g.tick(3))
        # a citizen post that mentions a government organisation (rule 5 input)
        amsterdam = ACCOUNTS[3]
        g.emit(amsterdam, native_id=g.next_id(), event_type="post", author=g.person(),
               text="@GemeenteAmsterdam " + g.fill(r.choice(BURGERBRIEF), amsterdam), created=g.tick(2))
    g.events.extend(malformed(g.rng))
    return g.events, g.personal


def malformed(rng: random.Random) -> list[bytes]:
    """Lines that must end in the dead-letter topic, each for a different reason."""
    good = {"event_id": "x:1", "object_id": "x:1", "platform": "x", "native_id": "1", "event_type": "post"}
    return [
        b"this is not json at all",
        b'{"event_id": "x:9", "platform": "x"',                      # truncated JSON
        b"\xff\xfe\x00 not utf-8 \xc3\x28",                           # invalid UTF-8
        b"[1, 2, 3]",                                                 # JSON, not an object
        json.dumps(good).encode(),                                    # missing required fields
        json.dumps({**good, "platform": "myspace"}).encode(),          # not in the enum
        b'{"pad": "' + b"x" * 1_100_000 + b'"}',                      # oversized (> 1 MB default)
        b"",                                                          # empty value
    ]


def main() -> None:
    for line in generate():
        sys.stdout.buffer.write(line + b"\n")


if __name__ == "__main__":
    main()
