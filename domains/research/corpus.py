"""The research domain's document set and its search index: local files, no network.

The documents are short markdown files shipped as package data (`docs/*.md`, about a fictional
island group, so no model can answer from memory). `Corpus` is the small service the workers'
tools call: `search` ranks documents with BM25 over their words, `read` returns one document.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

_WORD = re.compile(r"[a-z0-9]+")
_LINK = re.compile(r"\[\[([a-z0-9-]+)\]\]")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
    ]
)


def words(text: str) -> list[str]:
    """Lower-case words without stop words: what the index and a query are made of."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def normalize(text: str) -> str:
    """Whitespace collapsed and case folded: how quotes are compared with a document."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    """The body, without the title line."""
    links: tuple[str, ...]
    """Ids of the documents it refers to (`[[doc-id]]`)."""

    def contains(self, quote: str) -> bool:
        """True when `quote` occurs in the document, ignoring case and spacing."""
        return bool(quote.strip()) and normalize(quote) in normalize(self.text)


@dataclass(frozen=True)
class Hit:
    doc_id: str
    title: str
    score: float
    snippet: str


@dataclass
class Corpus:
    """The documents by id, with a BM25 index (k1 = 1.5, b = 0.75)."""

    documents: dict[str, Document]
    _terms: dict[str, Counter[str]] = field(init=False, repr=False)
    _df: Counter[str] = field(init=False, repr=False)
    _avg: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._terms = {
            d.doc_id: Counter(words(f"{d.title} {d.title} {d.text}"))
            for d in self.documents.values()
        }
        self._df = Counter(term for terms in self._terms.values() for term in terms)
        lengths = [sum(t.values()) for t in self._terms.values()]
        self._avg = sum(lengths) / max(1, len(lengths))

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The `k` best documents for `query`; only those sharing a word with it."""
        n = len(self.documents)
        scored: list[tuple[float, str]] = []
        for doc_id, terms in self._terms.items():
            length = sum(terms.values())
            score = 0.0
            for term in set(words(query)):
                tf = terms.get(term, 0)
                if not tf:
                    continue
                idf = math.log(1 + (n - self._df[term] + 0.5) / (self._df[term] + 0.5))
                score += idf * tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * length / self._avg))
            if score > 0:
                scored.append((score, doc_id))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [
            Hit(
                doc_id=doc_id,
                title=self.documents[doc_id].title,
                score=round(score, 3),
                snippet=_LINK.sub(r"\1", self.documents[doc_id].text)[:140],
            )
            for score, doc_id in scored[:k]
        ]

    def read(self, doc_id: str) -> Document | None:
        return self.documents.get(doc_id)


def parse(doc_id: str, markdown: str) -> Document:
    lines = markdown.strip().splitlines()
    title = lines[0].lstrip("# ").strip() if lines else doc_id
    body = "\n".join(lines[1:]).strip()
    return Document(doc_id=doc_id, title=title, text=body, links=tuple(_LINK.findall(body)))


@lru_cache(maxsize=1)
def load_corpus() -> Corpus:
    """The shipped documents (`domains/research/docs/*.md`), read once per process."""
    folder = resources.files("domains.research").joinpath("docs")
    documents = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            doc_id = entry.name[: -len(".md")]
            documents[doc_id] = parse(doc_id, entry.read_text(encoding="utf-8"))
    return Corpus(documents)
