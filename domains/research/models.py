"""What the research workers take and return, and the domain's structured request."""

from __future__ import annotations

from pydantic import BaseModel, Field

from orchestrator.adapters import ReportsUsage


class ResearchRequest(BaseModel):
    """A question to answer from the document set, with the limits of the search."""

    question: str = Field(min_length=3, description="The question the report answers.")
    sub_questions: list[str] = Field(
        default_factory=list, max_length=5, description="Further searches to run at once."
    )
    max_reads: int = Field(default=4, ge=1, le=12, description="Documents read from the hits.")
    follow_links: int = Field(
        default=2, ge=0, le=6, description="Further documents read because a reading named them."
    )


class SearchInput(BaseModel):
    query: str = Field(min_length=2, description="What to search the document set for.")


class Hit(BaseModel):
    doc_id: str
    title: str
    score: float = 0.0


class SearchResults(ReportsUsage):
    query: str
    hits: list[Hit] = Field(description="The best matching documents, best first.")


class ReadInput(BaseModel):
    doc_id: str = Field(description="Id of a document a search returned, e.g. 'varden-kelp'.")
    question: str = Field(description="The question the reading serves (for relevance).")


class Fact(BaseModel):
    statement: str = Field(description="One fact, in your words.")
    quote: str = Field(description="The sentence of the document that states it, verbatim.")


class Reading(ReportsUsage):
    doc_id: str
    relevant: bool = Field(description="Whether the document helps answer the question.")
    facts: list[Fact] = Field(default_factory=list)
    see_also: list[str] = Field(
        default_factory=list, description="Ids of documents this one refers to."
    )


class WriteInput(BaseModel):
    question: str = Field(description="The question the report answers.")
    doc_ids: list[str] = Field(
        min_length=1, description="Documents read so far that the report may cite."
    )


class Citation(BaseModel):
    doc_id: str
    quote: str = Field(description="The sentence of the document the claim rests on, verbatim.")


class Claim(BaseModel):
    text: str
    citations: list[Citation] = Field(description="At least one document the claim rests on.")


class Report(ReportsUsage):
    title: str
    claims: list[Claim]
