"""Suggested answers: TF-IDF similarity between a ticket and solved tickets and articles.

Character n-grams inside word boundaries (analyzer="char_wb", 2-4 characters) need no
tokenizer, so Chinese (written without spaces) ranks as well as English. Building the index
is a job (`build_index`, run by a Celery task over all resolved tickets and published
articles); a request only transforms one text and takes a sparse dot product against the
stored matrix (`rank`), which costs milliseconds whatever the corpus size.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    # Imported where the index is built: every process loads this module at start-up (the
    # service API's views), and scikit-learn costs it a second that only the job needs.
    # Unpickling an index imports it by itself.
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

# Similarities below this are noise (a few shared bigrams such as "th" or "in").
MIN_SCORE = 0.08
# A vocabulary cap keeps the stored pickle and the transform small on a large corpus.
MAX_FEATURES = 200_000


@dataclass(frozen=True)
class Document:
    kind: str  # "ticket" or "article"
    id: int
    text: str


@dataclass
class Index:
    vectorizer: TfidfVectorizer
    matrix: sparse.csr_matrix  # one L2-normalised row per document
    refs: list[tuple[str, int]]

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(payload: bytes) -> Index:
        return pickle.loads(payload)  # noqa: S301 - written by our own job only  # nosec B301 - the payload is written only by our own index job into our own database


def build_index(documents: Sequence[Document]) -> Index | None:
    """Fit the vectorizer on the documents; None when there is nothing to index."""
    docs = [d for d in documents if d.text.strip()]
    if not docs:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 4),
        lowercase=True,
        sublinear_tf=True,
        min_df=1,
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform([d.text for d in docs]).tocsr()
    return Index(vectorizer=vectorizer, matrix=matrix, refs=[(d.kind, d.id) for d in docs])


def rank(
    index: Index,
    text: str,
    *,
    limit: int = 5,
    exclude: Sequence[tuple[str, int]] = (),
    min_score: float = MIN_SCORE,
) -> list[tuple[str, int, float]]:
    """The most similar documents to `text`, best first: (kind, id, cosine similarity)."""
    if not text.strip():
        return []
    query = index.vectorizer.transform([text])
    scores = (index.matrix @ query.T).toarray().ravel()
    skip = set(exclude)
    order = np.argsort(-scores, kind="stable")
    out = []
    for i in order:
        score = float(scores[i])
        if score < min_score:
            break
        kind, doc_id = index.refs[i]
        if (kind, doc_id) in skip:
            continue
        out.append((kind, doc_id, score))
        if len(out) == limit:
            break
    return out
