"""OpenRLHF reward function file: point ``--reward.remote_url`` (openrlhf 0.11.2; ``--remote_rm_url`` in older
releases) at this file to score in-process, without a reward server.

Checked against openrlhf 0.11.2 (``openrlhf/utils/agent.py``, ``SingleTurnAgentExecutor``): a reward URL ending in
``.py`` is imported by path in each vLLM engine actor, and ``reward_func(queries, prompts, labels)`` is called
through ``asyncio.to_thread``, one sample per call and many calls at once. ``queries[i]`` is the decoded prompt +
response (``skip_special_tokens=False``), ``prompts[i]`` the templated prompt, ``labels[i]`` the
``--data.label_key`` value (unused here). OpenRLHF reads ``rewards`` (the advantage), ``scores`` (dynamic
filtering, so kept in [0, 1]) and ``extra_logs`` (logged per sample, the first element of each tensor);
``examples/python/reward_func.py`` returns tensors of ``len(queries)``, which is what this returns, for one sample
or a batch (older versions pass batches). Each query is split into prompt and response as ``/get_reward`` does
(:func:`activation_rm.integrations.openrlhf.split_query`); a query that does not contain its prompt (a prompt
OpenRLHF cut to fit ``max_len``, say) raises ValueError naming it, as the server answers 422. OpenRLHF logs an
exception from ``reward_func`` at INFO level and leaves that sample without a reward, which fails later in
training, so look there first.

Settings come from the environment of the Ray workers (``--runtime-env-json '{"env_vars": {...}}'``):

- ``ACTIVATION_RM_ARTIFACTS`` (required): artifact directories, comma-separated, each ``PATH`` or ``NAME=PATH``;
- ``ACTIVATION_RM_MODEL``: a backbone to load them on (default: the one they were fitted on);
- ``ACTIVATION_RM_DEVICE`` (default ``auto``) and ``ACTIVATION_RM_DTYPE``: the judge shares the GPU with vLLM, so
  leave it room (``--vllm.gpu_memory_utilization``) or pin it elsewhere;
- ``ACTIVATION_RM_CRITERIA``: the criteria averaged into the reward (default: every pointwise one; each one's
  scores go to ``extra_logs``);
- ``ACTIVATION_RM_STRIP_TOKENS``: extra special-token strings of the policy's tokenizer to strip when splitting
  (the judge's own are known), comma-separated.

The models load once per process, on the first call, however many calls arrive at once. The judge runs one batch
at a time; calls that arrive while it is busy are scored together in the next batch (OpenRLHF sends one sample per
call, and a GPU judge is far faster on batches).

openrlhf 0.11.2 pins ``transformers==5.15.0`` and activation-rm needs ``>=5.20``: if one environment cannot hold
both, run ``activation-rm serve`` elsewhere and pass ``--reward.remote_url http://HOST:PORT/get_reward`` instead.

OpenRLHF loads this file by path without registering it as a module, so it only re-exports
:func:`activation_rm.integrations.openrlhf.reward_func`: the code and the per-process cache live in the installed
package (a dataclass defined in a file loaded that way would not even build).
"""

from activation_rm.integrations.openrlhf import reward_func

__all__ = ["reward_func"]
