"""activation_rm/integrations/openrlhf_reward_func.py: the file OpenRLHF imports by path (no package context) and
what it gives: the adapter's reward function itself and nothing else (the behaviour is tested through it in
test_integrations_openrlhf.py)."""

from __future__ import annotations

import ast
import inspect

from integrations_support import load_reward_func_file

from activation_rm.integrations import openrlhf, openrlhf_reward_func


def test_the_file_loaded_by_path_is_the_adapters_reward_func():
    module = load_reward_func_file()
    assert module.__name__ == "reward_func" and module.reward_func is openrlhf.reward_func
    assert module.__all__ == ["reward_func"] == openrlhf_reward_func.__all__
    assert list(inspect.signature(module.reward_func).parameters)[:3] == ["queries", "prompts", "labels"]


def test_the_file_defines_nothing_of_its_own():
    """A dataclass defined in a file loaded by path would not even build: the file only re-exports."""
    tree = ast.parse(inspect.getsource(openrlhf_reward_func))
    kinds = [type(node).__name__ for node in tree.body]
    assert kinds == ["Expr", "ImportFrom", "Assign"]  # docstring, the import, __all__
    assert tree.body[1].module == "activation_rm.integrations.openrlhf"
