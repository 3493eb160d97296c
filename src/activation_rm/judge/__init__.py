"""Stage 3, the judge query: the chat-templated Yes/No question (templates), its multimodal form (vision), and
labelled examples turned into verdict queries (queries)."""
