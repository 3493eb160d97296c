"""Stage 2, the model: a loaded open-weight LM with its tokenizer (backbone) and the attention-head hooks that
record and replace per-head outputs (heads)."""
