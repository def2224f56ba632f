"""The cue lexicon must not leak the evaluation sets into the model.

A lexicon entry (a word or phrase in `core/burgerbrief/cues.py`) *leaks* when it occurs in an
evaluation set (dev.jsonl, test.jsonl, blind*.jsonl: every labelled file in datasets/burgerbrief/
except train.jsonl) but in no training line: such an entry can only have come from reading that
set, and it makes the set's score better than what unseen text gets.

Token normalisation, the same the cue matchers use, so that "occurs" here means "can fire there":
texts and entries are both split by the classifier's own tokenizer (`cues.make_nlp()`, spaCy
`blank("nl")`), whitespace tokens dropped, and each token lower-cased with Python's `str.lower`
(spaCy's LOWER attribute, the PhraseMatcher's `attr="LOWER"`). No accent folding, no stemming and
no typo tolerance: the matchers have none either. An entry occurs in a text when its token sequence
is a contiguous run of the text's tokens; an ORG_MENTION entry (matched inside handles) occurs when
it is a substring of a token starting with "@". The training lines are all of train.jsonl,
including the noisy variants of hand-written lines (they are what the model is trained on).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from archiefstroom.core.burgerbrief import cues, train

DATA = train.DATASET_DIR
EVAL_FILES = sorted(p for p in DATA.glob("*.jsonl") if p.name != "train.jsonl")


def _tokens(nlp, texts):
    return [tuple(t.lower_ for t in doc if not t.is_space) for doc in nlp.pipe(texts, batch_size=1000)]


def occurring(entries: list[cues.Entry], texts: list[str], nlp) -> set[cues.Entry]:
    """The entries that occur (in the sense of the module docstring) in at least one of `texts`."""
    seqs = dict.fromkeys(entries)
    phrase = {e: tuple(_tokens(nlp, [e.text])[0]) for e in entries if e.kind == "phrase"}
    by_seq: dict[tuple, list[cues.Entry]] = {}
    for e, seq in phrase.items():
        by_seq.setdefault(seq, []).append(e)
    lengths = sorted({len(s) for s in by_seq if s})
    handles = [e for e in entries if e.kind == "handle"]
    found: set[cues.Entry] = set()
    for toks in _tokens(nlp, texts):
        for n in lengths:
            for i in range(len(toks) - n + 1):
                hit = by_seq.get(toks[i:i + n])
                if hit:
                    found.update(hit)
        for e in handles:
            if any(t[:1] == "@" and e.text in t for t in toks):
                found.add(e)
    assert set(seqs) >= found
    return found


@pytest.fixture(scope="module")
def nlp():
    return cues.make_nlp()


@pytest.fixture(scope="module")
def in_train(nlp):
    return occurring(cues.lexicon(), [r["text"] for r in train.read_jsonl(train.TRAIN_FILE)], nlp)


def test_the_evaluation_sets_are_there():
    names = {p.name for p in EVAL_FILES}
    assert {"dev.jsonl", "test.jsonl", "blind.jsonl"} <= names


def test_the_lexicon_enumeration_covers_every_word_list():
    """`cues.lexicon()` is what the leak test sees: every string of every word list in cues.py must be in it."""
    listed = {e.text for e in cues.lexicon()}
    missing = []
    for name, value in vars(cues).items():
        if not name.lstrip("_").isupper() or name in ("CATEGORIES", "CUES", "URGENT_HEAD_THRESHOLD"):
            continue
        if isinstance(value, dict):   # {cue: [words]}, or {word: key} like CASE_WORD
            value = [w for k, v in value.items() for w in (v if isinstance(v, (list, tuple)) else [k])]
        if isinstance(value, (list, tuple, frozenset, set)):
            missing += [f"{name}: {w!r}" for w in value if isinstance(w, str) and w not in listed]
    assert not missing


def test_occurrence_follows_the_matchers_tokenisation(nlp):
    e = cues.Entry("woo", "t", "Woo-verzoek", "phrase")
    assert occurring([e], ["Hierbij mijn WOO-VERZOEK over de brug"], nlp) == {e}
    assert occurring([e], ["Hierbij mijn wooverzoek over de brug"], nlp) == set()   # no fuzzy matching
    assert occurring([e], ["woo verzoek"], nlp) == set()                            # "-" is a token
    h = cues.Entry("addresses_org", "t", "duo", "handle")
    assert occurring([h], ["@DUO_nl hoi"], nlp) == {h} and occurring([h], ["duo hoi"], nlp) == set()
    w = cues.Entry("danger", "t", "brand", "phrase")
    assert occurring([w], ["brandweer"], nlp) == set()                               # whole tokens only


@pytest.mark.parametrize("path", EVAL_FILES, ids=lambda p: p.name)
def test_no_lexicon_entry_occurs_in_an_evaluation_set_but_in_no_training_line(path, nlp, in_train):
    entries = [e for e in cues.lexicon() if e not in in_train]
    leaked = occurring(entries, [r["text"] for r in train.read_jsonl(path)], nlp)
    assert not leaked, f"{len(leaked)} lexicon entries occur in {path.name} but in no training line: " + ", ".join(
        sorted(f"{e.source}: {e.text!r}" for e in leaked))


def test_every_lexicon_entry_occurs_in_a_training_line(in_train):
    """The stricter rule the lexicon is kept to: a cue word or phrase is there because the training
    data has it, so a new entry needs training lines, not a look at an evaluation set."""
    unsupported = [e for e in cues.lexicon() if e not in in_train]
    assert not unsupported, f"{len(unsupported)} entries in no training line: " + ", ".join(
        sorted({f"{e.source}: {e.text!r}" for e in unsupported}))


@pytest.mark.parametrize("path", EVAL_FILES, ids=lambda p: p.name)
def test_no_evaluation_line_is_a_training_line(path):
    norm = lambda t: " ".join(t.lower().split())
    trained = {norm(r["text"]) for r in train.read_jsonl(train.TRAIN_FILE)}
    shared = [r["text"] for r in train.read_jsonl(path) if norm(r["text"]) in trained]
    assert not shared, shared[:5]
