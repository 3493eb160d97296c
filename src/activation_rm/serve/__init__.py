"""Serving Activation RMs: an HTTP reward server with dynamic batching, and scale-out on Ray.

Nothing here imports FastAPI or Ray at package import time, so the base install (without the ``[server]`` or
``[ray]`` extras) can still import :mod:`activation_rm.serve.config`; the scoring core is :mod:`activation_rm.scoring`, the
plain-HTTP client :mod:`activation_rm.integrations.client`.
"""
