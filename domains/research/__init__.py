"""The research domain: LLM worker agents over a local document set, and a cited report.

- `corpus`: the shipped documents (`docs/*.md`) and their BM25 index.
- `tools`, `prompts`, `workers`: three prebuilt ReAct agents as workers (search, read, write).
- `planner`: the deterministic planner; `guide`: what the LLM planner is told besides the board.
- `verifier`: every claim cites a document that was read and quotes it; `synthesizer`: the report.
- `offline`: the scripted loopback model that plays the agents (and the planner) offline.
- `python -m domains.research` (`make research`) runs a question end to end, offline by default.
"""

from domains.research.domain import research_domain

__all__ = ["research_domain"]
