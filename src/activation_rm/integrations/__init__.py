"""Adapters for RL post-training frameworks (stage 8): TRL (:mod:`.trl`), verl (:mod:`.verl`) and OpenRLHF
(:mod:`.openrlhf`, with its query split in :mod:`.openrlhf_queries`), the batching of concurrent reward calls
(:mod:`.calls`), the plain-HTTP reward client (:mod:`.client`) and Ray Data batch scoring (:mod:`.ray_batch`).

Each adapter module imports its framework lazily or not at all, so importing it never needs the framework.
"""
