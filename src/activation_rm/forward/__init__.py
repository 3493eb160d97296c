"""Stage 4, forward passes: batched last-token logits with optional steering (batching) and KV-prefix sharing
between queries that start alike (shared_prefix)."""
