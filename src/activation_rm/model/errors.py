"""The backbone errors, free of torch: the judge templates and the command line raise and catch them without
loading a model."""

from __future__ import annotations


class UnsupportedModelError(ValueError):
    """The backbone's architecture is not in :data:`activation_rm.model.backbone.FAMILIES`."""


class BackboneMismatchError(ValueError):
    """An artifact was fitted on a different backbone than the one it is being used with."""


class PickleWeightsError(UnsupportedModelError):
    """A model directory without safetensors weights: loading pickle files (``pytorch_model.bin``) can run code."""
