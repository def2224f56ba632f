"""Burgerbrief classifier: a plain library function, usable without the pipeline.

    from archiefstroom.core.burgerbrief.classifier import classify, classify_batch
    classify("Kunnen jullie mij bellen over mijn huurtoeslag?").label   # True

Pipeline: spaCy blank("nl") tokenizer, rule cues (cues.py) and three
linear heads over the same binary features (linear.py):
  label    possible burgerbrief or not; its margin is Platt-calibrated into `score`
  category vraag / verzoek / klacht / bezwaar / melding / woo-verzoek (softmax, trained on burgerbrieven)
  urgent   danger, threat or self-harm: a self-harm cue always; a danger/threat cue when the
           urgency head agrees (p >= 0.35), since words like "brand" or "mes" also occur harmlessly;
           the head alone when it is sure (p >= 0.5): the lexicon holds only words seen in training
The trained weights ship in core/burgerbrief/model/ (see train.py and datasets/burgerbrief/README.md).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from archiefstroom.core.burgerbrief import cues as cue_mod
from archiefstroom.core.burgerbrief.linear import Batch, margins, sigmoid

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = MODEL_DIR / "burgerbrief.npz"
DEFAULT_THRESHOLD = 0.5

_digits = re.compile(r"\d")
_alpha = re.compile(r"[^\W\d_]")
_LEN_BUCKETS = (1, 3, 7, 15, 31)
_GRAM_MIN_LEN = 6


def _norm(text: str) -> str:
    """Lower-cased token with URLs, mentions and digits folded, so that numbers and handles don't become features."""
    if text.startswith(("http", "www.")):
        return "<url>"
    if text.startswith("@") and len(text) > 1:
        return "<@>"
    if _digits.search(text):
        return _digits.sub("0", text)[:8]
    return text


def features(doc, hits: cue_mod.CueHits) -> list[str]:
    """Binary feature names of one reaction: words, word pairs, word prefixes and letter 4-grams (robust to
    typos, inflection and run-together words), cues and cue pairs, length bucket, question ending, opening
    mention."""
    texts = hits.lowers if hits.lowers is not None else [t.lower_ for t in doc if not t.is_space]
    norms = [_norm(x) for x in texts]
    out = [f"w:{n}" for n in norms]
    out += [f"b:{a}_{b}" for a, b in zip(norms, norms[1:])]
    out += [f"p:{n[:5]}" for n in norms if len(n) >= 7 and n.isalpha()]
    # letter 4-grams of longer words (with word-boundary marks): typos, inflection, compounds and run-together
    # words ("kunnenjulliemijbellen") share pieces with the words the model was trained on
    for n in norms:
        if len(n) >= _GRAM_MIN_LEN and n.isalpha():
            w = f"<{n}>"
            out += ["g:" + w[i:i + 4] for i in range(len(w) - 3)]
    out += [f"c:{c}" for c in hits.names]
    names = sorted(hits.names)
    out += [f"cc:{a}&{b}" for i, a in enumerate(names) for b in names[i + 1:]]
    n = len(norms)
    out.append("len:" + str(next((i for i, b in enumerate(_LEN_BUCKETS) if n <= b), len(_LEN_BUCKETS))))
    if norms:
        out.append(f"start:{norms[0]}")
        if not _alpha.search(" ".join(texts)):
            out.append("no_words")
        if "?" in "".join(texts[-4:]):
            out.append("ends_question")
        if norms[0] == "<@>":
            out.append("starts_mention")
    out.append("bias_feature")
    return out


@dataclass
class Result:
    label: bool
    score: float
    category: str | None
    reasons: list[str]
    urgent: bool
    model_version: str
    category_scores: dict[str, float] = field(default_factory=dict)

    def datum(self) -> dict:
        """The `burgerbrief` sub-record of the archive record (schemas/burgerbrief.avsc)."""
        return {"label": self.label, "score": round(self.score, 4), "category": self.category,
                "reasons": list(self.reasons), "urgent": self.urgent, "model_version": self.model_version,
                "verdict": None}


class Model:
    """Weights + vocabulary; `Classifier` adds the spaCy pipeline around it."""

    def __init__(self, vocab: dict[str, int], w_label, b_label, w_cat, b_cat, w_urg, b_urg, platt, categories,
                 version: str, train_rate: float = 0.5):
        self.vocab, self.version = vocab, version
        self.w_label, self.b_label = np.asarray(w_label, np.float64), float(b_label)
        self.w_cat, self.b_cat = np.asarray(w_cat, np.float64), np.asarray(b_cat, np.float64)
        self.w_urg, self.b_urg = np.asarray(w_urg, np.float64), float(b_urg)
        self.platt = (float(platt[0]), float(platt[1]))
        self.categories = tuple(categories)
        self.train_rate = float(train_rate)   # share of burgerbrieven the calibration saw

    def save(self, path: Path, meta: dict | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(self.vocab, key=self.vocab.get)
        with path.open("wb") as fh:
            np.savez_compressed(fh, features=np.array(names), w_label=self.w_label.astype(np.float32),
                                b_label=self.b_label, w_cat=self.w_cat.astype(np.float32), b_cat=self.b_cat,
                                w_urg=self.w_urg.astype(np.float32), b_urg=self.b_urg, platt=np.array(self.platt),
                                categories=np.array(self.categories), train_rate=np.array(self.train_rate))
        if meta is not None:
            path.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Model":
        body = Path(path).read_bytes()
        version = "bb-linear-" + hashlib.sha256(body).hexdigest()[:10]
        z = np.load(io.BytesIO(body), allow_pickle=False)
        vocab = {str(n): i for i, n in enumerate(z["features"])}
        return cls(vocab, z["w_label"], z["b_label"], z["w_cat"], z["b_cat"], z["w_urg"], z["b_urg"], z["platt"],
                   [str(c) for c in z["categories"]], version,
                   float(z["train_rate"]) if "train_rate" in z.files else 0.5)


class Classifier:
    """Build once per process/worker (pipeline + matchers ~0.3 s); then call `classify`/`classify_batch`."""

    def __init__(self, model: Model | None = None, *, model_path: Path | None = None,
                 threshold: float = DEFAULT_THRESHOLD, base_rate: float | None = None,
                 extra_features: Callable[[str], list[str]] | None = None):
        """`extra_features(text)`: more feature names per reaction, for a model trained with the same
        function (train.train's `extra_features`; bench/burgerbrief_registry.py compares such models)."""
        self.model = model or Model.load(model_path or MODEL_FILE)
        self.extra_features = extra_features
        self.threshold = threshold
        # prior shift: the score is calibrated for the training set's share of burgerbrieven (about half);
        # with the live share given, odds are rescaled so that the score is a probability there too
        self.prior_shift = 0.0
        if base_rate is not None:
            r = self.model.train_rate
            self.prior_shift = float(np.log(base_rate / (1 - base_rate)) - np.log(r / (1 - r)))
        self.nlp = cue_mod.make_nlp()
        self.cues = cue_mod.CueFinder(self.nlp)

    # -- featurising ------------------------------------------------------------
    def analyse(self, texts: Iterable[str], batch_size: int = 512):
        """(doc, cue hits) per text, through nlp.pipe."""
        for doc in self.nlp.pipe((t or "" for t in texts), batch_size=batch_size):
            yield doc, self.cues(doc)

    def _batch(self, analysed: Sequence) -> Batch:
        vocab = self.model.vocab
        ids, ptr = [], [0]
        extra = self.extra_features
        for doc, hits in analysed:
            feats = features(doc, hits) + extra(doc.text) if extra else features(doc, hits)
            row = {vocab[f] for f in feats if f in vocab}
            ids.extend(row)
            ptr.append(len(ids))
        return Batch(np.fromiter(ids, dtype=np.int32, count=len(ids)), np.asarray(ptr, dtype=np.int64))

    # -- scoring ------------------------------------------------------------------
    def classify_batch(self, texts: Sequence[str], orgs: Sequence[str | None] | None = None,
                       batch_size: int = 512) -> list[Result]:
        texts = list(texts)
        analysed = list(self.analyse(texts, batch_size))
        if not analysed:
            return []
        m = self.model
        batch = self._batch(analysed)
        z = margins(batch, m.w_label, m.b_label)
        score = sigmoid(m.platt[0] * z + m.platt[1] + self.prior_shift)
        zc = margins(batch, m.w_cat, m.b_cat)
        zc -= zc.max(axis=1, keepdims=True)
        pc = np.exp(zc)
        pc /= pc.sum(axis=1, keepdims=True)
        pu = sigmoid(margins(batch, m.w_urg, m.b_urg))
        out = []
        for i, (doc, hits) in enumerate(analysed):
            label = bool(score[i] >= self.threshold)
            urgent = cue_mod.urgent(hits, float(pu[i]))
            reasons = cue_mod.reasons(hits)
            org = orgs[i] if orgs else None
            if org and _names_org(doc.text, org):
                reasons.insert(0, "noemt de organisatie bij naam")
            if label and not any(not cue_mod.CUES[n].negative for n in hits.names):
                reasons.append("woordkeus lijkt op eerdere burgerbrieven")
            k = int(np.argmax(pc[i]))
            out.append(Result(label, float(score[i]), m.categories[k] if label else None, reasons, urgent,
                              m.version, {c: float(pc[i][j]) for j, c in enumerate(m.categories)}))
        return out

    def classify(self, text: str, org: str | None = None, post: str | None = None,
                 platform: str | None = None) -> Result:
        return self.classify_batch([text], [org])[0]


def _names_org(text: str, org: str) -> bool:
    """Does the text name the organisation ("Belastingdienst", "gemeente Utrecht")? Generic words don't count."""
    generic = {"gemeente", "ministerie", "van", "de", "het", "stad", "provincie"}
    words = [w for w in re.findall(r"\w+", org.lower()) if w not in generic and len(w) > 2]
    low = text.lower()
    return bool(words) and all(w in low for w in words)


_default: dict[tuple, Classifier] = {}
_lock = threading.Lock()


def get(model_path: Path | None = None, threshold: float = DEFAULT_THRESHOLD,
        base_rate: float | None = None) -> Classifier:
    """Process-wide classifier per (model, threshold, base rate): the pipeline and matchers are built once."""
    key = (str(model_path or MODEL_FILE), threshold, base_rate)
    with _lock:
        if key not in _default:
            _default[key] = Classifier(model_path=model_path, threshold=threshold, base_rate=base_rate)
        return _default[key]


def classify(text: str, org: str | None = None, post: str | None = None, platform: str | None = None) -> Result:
    """Classify one reaction with the shipped model. `post` and `platform` are accepted for context
    (they travel with alerts); the shipped model scores the reaction text and the organisation's name."""
    return get().classify(text, org=org, post=post, platform=platform)


def classify_batch(texts: Sequence[str], orgs: Sequence[str | None] | None = None,
                   batch_size: int = 512) -> list[Result]:
    """Many reactions at once (nlp.pipe + one vectorised scoring pass): the fast path."""
    return get().classify_batch(texts, orgs, batch_size)
