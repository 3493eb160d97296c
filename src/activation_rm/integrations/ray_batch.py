"""Ray Data batch scoring of large JSONL or Parquet files: N actors, each loading the backbone once.

Input rows need ``prompt`` (a string or a messages list) and ``response``, and may carry ``images`` (a list of image
paths, relative to the input file's folder, for vision-language backbones); every input column is kept and
``score`` is added (plus ``score_<name>`` per criterion when several artifacts are scored). The output is a
directory of shards, as Ray Data writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray

from activation_rm.inputs.prompts import check_prompt, prompt_input, response_problem
from activation_rm.scoring.streaming import InputError


class BatchScorer:
    """Ray Data callable class: loads the models once per actor and scores pandas batches."""

    def __init__(self, artifacts: list[str], backbone_kwargs: dict[str, Any], criteria: list[str] | None,
                 image_root: str | None = None) -> None:
        from activation_rm.scoring.engine import load_model_set

        self.models = load_model_set(artifacts, **backbone_kwargs)
        self.criteria = criteria
        self.image_root = Path(image_root) if image_root else Path(".")

    def _images(self, batch) -> list[Any] | None:
        """Per row: image paths resolved against ``image_root`` (None for a row without images)."""
        if "images" not in batch.columns:
            return None
        rows = []
        for refs in batch["images"]:
            refs = [] if refs is None else [str(r) for r in list(refs)]
            rows.append([r if Path(r).is_absolute() else str(self.image_root / r) for r in refs] or None)
        return rows if any(rows) else None

    def __call__(self, batch):
        from activation_rm.scoring.engine import combine

        prompts, responses = [], []
        for prompt, response in zip(batch["prompt"], batch["response"]):
            try:
                if prompt is None:
                    raise ValueError("a row has no prompt")
                prompts.append(check_prompt(prompt_input(prompt)))  # Arrow hands messages back as arrays of dicts
            except (ValueError, TypeError) as err:
                raise InputError(f"bad prompt {str(prompt)[:80]!r}: {err}") from None
            problem = response_problem(response)
            if problem:
                raise InputError(f"response {problem}: {str(response)[:80]!r}")
            responses.append(response)
        images = self._images(batch)
        scores = self.models.score(prompts, responses, self.criteria, **({"images": images} if images else {}))
        out = batch.copy()
        if len(scores) == 1:
            out["score"] = next(iter(scores.values()))
        else:
            for name, values in scores.items():
                out[f"score_{name}"] = values
            out["score"] = combine(scores)
        return out


def _is_parquet(path: str) -> bool:
    return Path(path).suffix == ".parquet" or (Path(path).is_dir() and any(Path(path).glob("*.parquet")))


def score_with_ray(input_path: str, output_dir: str, artifacts: Sequence[str], *,
                   backbone_kwargs: dict[str, Any] | None = None, criteria: Sequence[str] | None = None,
                   workers: int = 2, batch_size: int = 64, num_cpus: float = 1.0, num_gpus: float = 0.0,
                   address: str | None = None) -> int:
    """Score ``input_path`` into ``output_dir``; returns the number of rows written."""
    if not Path(input_path).exists():
        raise FileNotFoundError(f"input not found: {input_path}")
    if not ray.is_initialized():
        ray.init(address=address)
    dataset = ray.data.read_parquet(input_path) if _is_parquet(input_path) else ray.data.read_json(input_path,
                                                                                                   lines=True)
    columns = set(dataset.schema().names)
    missing = {"prompt", "response"} - columns
    if missing:
        raise InputError(f"{input_path}: rows need 'prompt' and 'response'; missing {sorted(missing)}")
    scored = dataset.map_batches(
        BatchScorer, fn_constructor_kwargs={"artifacts": list(artifacts), "backbone_kwargs": dict(backbone_kwargs or {}),
                                            "criteria": list(criteria) if criteria else None},
        batch_size=batch_size, batch_format="pandas", concurrency=workers, num_cpus=num_cpus, num_gpus=num_gpus)
    if Path(output_dir).suffix == ".parquet":
        scored.write_parquet(output_dir)
    else:
        scored.write_json(output_dir, lines=True, force_ascii=False)
    return sum(1 for _ in _output_rows(output_dir))


def _output_rows(output_dir: str):
    import pyarrow.parquet as pq

    for path in sorted(Path(output_dir).iterdir()):
        if path.suffix == ".parquet":
            yield from range(pq.ParquetFile(path).metadata.num_rows)
        elif path.suffix in (".json", ".jsonl"):
            with open(path, encoding="utf-8") as handle:
                yield from (line for line in handle if line.strip())
