"""Stage 6, scoring: the Activation RM (reward_model), its artifact format (artifacts), the cross-validated fit
(auto), the multi-criterion engine behind every surface (engine) and resumable JSONL jobs (streaming)."""
