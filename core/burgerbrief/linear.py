"""Sparse linear models in numpy: binary logistic regression, softmax, Platt calibration.

Why our own and not spaCy's textcat: the model has to weigh rule cues and words
together, be calibrated, and score thousands of short reactions per second on
one core. A linear model over binary features (words, word pairs, word prefixes,
cues) does that with one gather-and-sum per batch, and trains in seconds.

A batch is `Batch(idx, ptr)`: the feature ids of document i are idx[ptr[i]:ptr[i+1]].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Batch:
    idx: np.ndarray   # int32 feature ids, all documents concatenated
    ptr: np.ndarray   # int64 offsets, len = n_docs + 1

    @property
    def n(self) -> int:
        return len(self.ptr) - 1

    def rows(self) -> np.ndarray:
        """Document number of every entry of idx."""
        return np.repeat(np.arange(self.n), np.diff(self.ptr))

    def take(self, docs: np.ndarray) -> "Batch":
        parts = [self.idx[self.ptr[d]:self.ptr[d + 1]] for d in docs]
        ptr = np.zeros(len(docs) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(p) for p in parts])
        return Batch(np.concatenate(parts) if parts else np.zeros(0, np.int32), ptr)


def margins(batch: Batch, w: np.ndarray, b) -> np.ndarray:
    """Sum of weights per document (w: (F,) or (F, K)) plus bias."""
    gathered = w[batch.idx]
    out = np.zeros((batch.n,) + w.shape[1:], dtype=np.float64)
    rows = batch.rows()
    if w.ndim == 1:
        out += np.bincount(rows, weights=gathered, minlength=batch.n)
    else:
        np.add.at(out, rows, gathered)
    return out + b


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def _adam(grad_fn, params: list[np.ndarray], steps: int, lr: float):
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        grads = grad_fn(params)
        for i, (p, g) in enumerate(zip(params, grads)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            p -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    return params


def fit_logistic(batch: Batch, y: np.ndarray, n_features: int, *, l2: float = 1e-3, steps: int = 300,
                 lr: float = 0.05, sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Full-batch Adam on mean log-loss + l2 * |w|^2. Deterministic."""
    y = y.astype(np.float64)
    sw = np.ones(batch.n) if sample_weight is None else sample_weight
    sw = sw / sw.sum()
    rows = batch.rows()

    def grad(params):
        w, b = params
        p = _sigmoid(margins(batch, w, b[0]))
        g = (p - y) * sw
        gw = np.bincount(batch.idx, weights=g[rows], minlength=n_features) + 2 * l2 * w
        return [gw, np.array([g.sum()])]

    w, b = _adam(grad, [np.zeros(n_features), np.zeros(1)], steps, lr)
    return w, float(b[0])


def fit_softmax(batch: Batch, y: np.ndarray, n_features: int, n_classes: int, *, l2: float = 1e-3,
                steps: int = 300, lr: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    onehot = np.eye(n_classes)[y]
    rows = batch.rows()

    def grad(params):
        w, b = params
        z = margins(batch, w, b)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / batch.n
        gw = np.zeros_like(w)
        np.add.at(gw, batch.idx, g[rows])
        return [gw + 2 * l2 * w, g.sum(axis=0)]

    w, b = _adam(grad, [np.zeros((n_features, n_classes)), np.zeros(n_classes)], steps, lr)
    return w, b


def fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: p = sigmoid(a*z + c), fitted by Newton's method with Platt's target smoothing."""
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, c = 1.0, 0.0
    for _ in range(100):
        p = _sigmoid(a * z + c)
        g = np.array([np.sum((p - t) * z), np.sum(p - t)])
        s = p * (1 - p) + 1e-12
        h = np.array([[np.sum(s * z * z), np.sum(s * z)], [np.sum(s * z), np.sum(s)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, c = a - step[0], c - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(a), float(c)


sigmoid = _sigmoid
