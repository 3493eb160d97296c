"""activation-rm: few-shot reward models from any open-weight LM by activation steering.

The public names below load on first use, so ``import activation_rm`` (and ``activation-rm --help``) imports no
torch and reads no package metadata. The package is organised as stages that import only downwards: ``inputs``
-> ``model`` -> ``judge`` -> ``forward`` -> ``fit`` -> ``scoring`` -> ``eval`` -> ``integrations`` -> ``serve``
-> ``apps`` (``tests/test_layout.py`` checks it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it
_EXPORTS = {
    "__version__": "activation_rm.version",
    # inputs
    "ConfigError": "activation_rm.inputs.checks",
    "ExampleError": "activation_rm.inputs.data",
    "PairwiseExample": "activation_rm.inputs.data",
    "PointwiseExample": "activation_rm.inputs.data",
    "load_examples": "activation_rm.inputs.data",
    # model
    "Backbone": "activation_rm.model.backbone",
    "load_backbone": "activation_rm.model.backbone",
    "BackboneMismatchError": "activation_rm.model.errors",
    "UnsupportedModelError": "activation_rm.model.errors",
    # judge and fit configuration
    "JudgeTemplate": "activation_rm.judge.templates",
    "ContextConfig": "activation_rm.fit.config",
    "SelectionConfig": "activation_rm.fit.config",
    # the reward model and its scorers
    "ActivationRM": "activation_rm.scoring.reward_model",
    "Comparison": "activation_rm.scoring.reward_model",
    "ArtifactError": "activation_rm.scoring.artifacts",
    "fit_auto": "activation_rm.scoring.auto",
    "ModelSet": "activation_rm.scoring.engine",
    "score_criteria": "activation_rm.scoring.engine",
}

#: the public surface: every lazy export
__all__ = [
    "__version__",
    "ActivationRM",
    "ArtifactError",
    "Backbone",
    "BackboneMismatchError",
    "Comparison",
    "ConfigError",
    "ContextConfig",
    "ExampleError",
    "JudgeTemplate",
    "ModelSet",
    "PairwiseExample",
    "PointwiseExample",
    "SelectionConfig",
    "UnsupportedModelError",
    "fit_auto",
    "load_backbone",
    "load_examples",
    "score_criteria",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'activation_rm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names above load lazily
    from activation_rm.fit.config import ContextConfig, SelectionConfig
    from activation_rm.inputs.checks import ConfigError
    from activation_rm.inputs.data import ExampleError, PairwiseExample, PointwiseExample, load_examples
    from activation_rm.judge.templates import JudgeTemplate
    from activation_rm.model.backbone import Backbone, load_backbone
    from activation_rm.model.errors import BackboneMismatchError, UnsupportedModelError
    from activation_rm.scoring.artifacts import ArtifactError
    from activation_rm.scoring.auto import fit_auto
    from activation_rm.scoring.engine import ModelSet, score_criteria
    from activation_rm.scoring.reward_model import ActivationRM, Comparison
    from activation_rm.version import __version__
