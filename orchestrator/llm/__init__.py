"""The LLM side of the orchestrator: planner, synthesizer, model factory, usage.

Any OpenAI-compatible endpoint works (OpenAI, vLLM, Ollama, LM Studio...) through
`langchain_openai.ChatOpenAI`. The submodules are imported on demand: `config` and `usage` are
light, while `models`, `planner` and `synthesizer` load the model client.

- `config`: whether a model is configured, which planner a run uses, model names per role.
- `models`: builds the client for a role and makes one structured or plain call.
- `prompts`: every prompt, as constants.
- `planner`: `LLMPlanner`, the LLM in the planner seat, and the prompt it builds each round.
- `synthesizer`: `LLMSynthesizer`, an optional prose answer on top of a template synthesizer.
- `usage`: token usage per call, a price table and run totals.

The travel domain's LLM parts live in the domain: `domains.travel.extract` (free text to a
`TripRequest`) and `domains.travel.llm_planner` (facts, booking checks, itinerary).
"""
