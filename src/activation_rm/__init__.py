"""activation-rm: few-shot reward models from any open-weight LM by activation steering."""

from activation_rm.fit.config import ContextConfig, SelectionConfig
from activation_rm.inputs.data import ExampleError, PairwiseExample, PointwiseExample, load_examples
from activation_rm.judge.templates import JudgeItem, JudgeTemplate
from activation_rm.model.backbone import Backbone, BackboneMismatchError, UnsupportedModelError, load_backbone
from activation_rm.model.heads import Steering, head_hooks
from activation_rm.scoring.reward_model import ActivationRM, Comparison
from activation_rm.version import __version__

__all__ = [
    "ActivationRM",
    "Backbone",
    "BackboneMismatchError",
    "Comparison",
    "ContextConfig",
    "ExampleError",
    "JudgeItem",
    "JudgeTemplate",
    "PairwiseExample",
    "PointwiseExample",
    "SelectionConfig",
    "Steering",
    "UnsupportedModelError",
    "__version__",
    "head_hooks",
    "load_backbone",
    "load_examples",
]
