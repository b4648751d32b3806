"""The tools the research agents call: search and read the local document set."""

from __future__ import annotations

import json

from langchain_core.tools import ToolException, tool

from domains.research.corpus import load_corpus

SEARCH_HITS = 5


@tool
def search_documents(query: str) -> str:
    """Searches the document set; returns the best documents (id, title, score, snippet)."""
    hits = load_corpus().search(query, k=SEARCH_HITS)
    return json.dumps([hit.__dict__ for hit in hits])


@tool
def read_document(doc_id: str) -> str:
    """Returns one document by id: its title, its text and the ids it refers to."""
    document = load_corpus().read(doc_id)
    if document is None:
        raise ToolException(f"no document is called {doc_id!r}")
    return json.dumps(
        {
            "doc_id": document.doc_id,
            "title": document.title,
            "text": document.text,
            "links": list(document.links),
        }
    )
