"""Serving Activation RMs: an HTTP reward server with dynamic batching, and scale-out on Ray.

Nothing here imports FastAPI or Ray at package import time, so the base install (without the ``[server]`` or
``[ray]`` extras) can still import :mod:`activation_rm.serve.models` and the plain-HTTP client.
"""
