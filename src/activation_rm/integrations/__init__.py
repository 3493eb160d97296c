"""Adapters for RL post-training frameworks: TRL (:mod:`.trl`), verl (:mod:`.verl`) and OpenRLHF (:mod:`.openrlhf`).

Each adapter module imports its framework lazily or not at all, so importing it never needs the framework.
"""
