"""Serving Activation RMs: an HTTP reward server with dynamic batching, and Ray Serve replicas (stage 9).

Nothing here imports FastAPI or Ray at package import time, so the base install (without the ``[server]`` or
``[ray]`` extras) can still import :mod:`activation_rm.serve.config`. The scoring core is
:mod:`activation_rm.scoring.engine`, the plain-HTTP client :mod:`activation_rm.integrations.client` and the Ray Data
batch scorer :mod:`activation_rm.integrations.ray_batch`.
"""
