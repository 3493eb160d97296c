"""activation-rm: few-shot reward models from any open-weight LM by activation steering."""

__version__ = "0.1.0"

from .backbone import Backbone, BackboneMismatchError, UnsupportedModelError, load_backbone  # noqa: E402
from .data import ExampleError, PairwiseExample, PointwiseExample, load_examples  # noqa: E402
from .heads import Steering, head_hooks  # noqa: E402
from .reward_model import ActivationRM, Comparison  # noqa: E402
from .templates import JudgeItem, JudgeTemplate  # noqa: E402

__all__ = [
    "ActivationRM",
    "Backbone",
    "BackboneMismatchError",
    "Comparison",
    "ExampleError",
    "JudgeItem",
    "JudgeTemplate",
    "PairwiseExample",
    "PointwiseExample",
    "Steering",
    "UnsupportedModelError",
    "__version__",
    "head_hooks",
    "load_backbone",
    "load_examples",
]
