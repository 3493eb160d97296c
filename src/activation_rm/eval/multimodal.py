"""Multimodal benchmark loaders: Multimodal RewardBench and VL-RewardBench as :class:`PairRecord` with images.

Neither benchmark can be downloaded by this package: Multimodal RewardBench ships ``all_data.json`` plus a script
that fetches third-party images into ``data/images/...``; VL-RewardBench is a Hugging Face dataset (Parquet with
embedded images, or an export to JSON/JSONL with image files). Point the loaders at local copies; image paths are
resolved under a user-given ``image_root``. Every bad row or missing image raises :class:`MultimodalBenchmarkError`
naming the file, row and field (or image path).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from activation_rm.eval.records import PairRecord
from activation_rm.inputs.data import PairwiseExample, split_jsonl

#: Multimodal RewardBench ``Category`` -> the six areas of its leaderboard.
MMRB_SECTIONS: dict[str, str] = {
    "open_generation/correctness_task": "General Correctness",
    "open_generation/preference_task": "General Preference",
    "knowledge": "Knowledge",
    "reasoning": "Reasoning",
    "safety": "Safety",
    "vqa": "VQA",
}
#: VL-RewardBench ``query_source`` (lower-cased) -> its three reported domains.
VLRB_SECTIONS: dict[str, str] = {
    "wildvision": "General", "vlfeedback": "General",
    "povid": "Hallucination", "rlaif-v": "Hallucination", "rlhf-v": "Hallucination",
    "mmmu-pro": "Reasoning", "mathverse": "Reasoning",
}


class MultimodalBenchmarkError(ValueError):
    """A benchmark row that does not fit the released format, or an image that is missing."""


def _rows(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """(location, row) from a JSON list, a JSONL file or a Parquet file; location is ``file:line`` or
    ``file[index]``."""
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as err:
            raise MultimodalBenchmarkError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from err
        for index, row in enumerate(pq.read_table(path).to_pylist()):
            yield f"{path}[{index}]", row
        return
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as err:
            raise MultimodalBenchmarkError(f"{path}: invalid JSON ({err.msg} at line {err.lineno})") from None
        for index, row in enumerate(rows):
            yield f"{path}[{index}]", row
        return
    for number, line in enumerate(split_jsonl(text), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{number}", json.loads(line)
        except json.JSONDecodeError as err:
            raise MultimodalBenchmarkError(f"{path}:{number}: invalid JSON ({err.msg} at column {err.colno})") from None


def _text(row: Any, key: str, where: str) -> str:
    if not isinstance(row, dict):
        raise MultimodalBenchmarkError(f"{where}: expected an object, got {type(row).__name__}")
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MultimodalBenchmarkError(f"{where}: field {key!r} must be a non-empty string")
    return value


def _image_path(root: Path, ref: str, where: str, check: bool) -> str:
    path = Path(ref) if Path(ref).is_absolute() else root / ref
    if check and not path.is_file():
        raise MultimodalBenchmarkError(f"{where}: image file not found: {path}")
    return str(path)


def mmrb_subset(category: str, item_id: str) -> str:
    """The fine-grained category the official accuracy script reports (safety and reasoning are split by id)."""
    if category == "safety":
        return "safety/bias" if item_id.lower().startswith("pairs") else "safety/toxicity"
    if category == "reasoning":
        return "reasoning/math" if item_id.lower().startswith("math") else "reasoning/coding"
    return category


def load_multimodal_rewardbench(path: str | os.PathLike, image_root: str | os.PathLike | None = None, *,
                                categories: Sequence[str] | None = None,
                                check_images: bool = True) -> list[PairRecord]:
    """Multimodal RewardBench from its released ``all_data.json`` (rows of ``ID``, ``Text``, ``Image``,
    ``Output1``, ``Output2``, ``Better`` = ``"Output1"``/``"Output2"``, ``Category``).

    ``Image`` is relative to ``image_root`` (default: the JSON file's folder, the repository's ``data/``).
    ``categories`` keeps only rows whose top-level ``Category`` (e.g. ``"vqa"``) is listed.
    """
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    records: list[PairRecord] = []
    for where, row in _rows(path):
        item_id = _text(row, "ID", where)
        category = _text(row, "Category", where)
        if categories is not None and category not in categories:
            continue
        outputs = (_text(row, "Output1", where), _text(row, "Output2", where))
        better = row.get("Better")
        if better not in ("Output1", "Output2"):
            raise MultimodalBenchmarkError(f"{where}: field 'Better' must be 'Output1' or 'Output2', got {better!r}")
        chosen, rejected = outputs if better == "Output1" else outputs[::-1]
        image = _image_path(root, _text(row, "Image", where), where, check_images)
        records.append(PairRecord(id=item_id, subset=mmrb_subset(category, item_id), prompt=_text(row, "Text", where),
                                  chosen=chosen, rejected=rejected, section=MMRB_SECTIONS.get(category),
                                  images=(image,)))
    if not records:
        raise MultimodalBenchmarkError(f"{path}: no rows" + (f" in categories {list(categories)}" if categories else ""))
    return records


def _vlrb_image(value: Any, root: Path, where: str, check: bool) -> Any:
    """A path string under ``root``, or the Hugging Face image feature ``{"bytes", "path"}`` (decoded)."""
    if isinstance(value, str) and value.strip():
        return _image_path(root, value, where, check)
    if isinstance(value, dict):
        if value.get("bytes"):
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(io.BytesIO(value["bytes"])) as image:
                    image.load()
                    return image.convert("RGB")
            except (OSError, UnidentifiedImageError) as err:
                raise MultimodalBenchmarkError(f"{where}: field 'image' holds bytes that are not an image "
                                               f"({err})") from None
        if isinstance(value.get("path"), str) and value["path"]:
            return _image_path(root, value["path"], where, check)
    raise MultimodalBenchmarkError(f"{where}: field 'image' must be an image path or an image feature with bytes")


def vlrb_section(source: str) -> str | None:
    lowered = source.lower()
    for key, section in VLRB_SECTIONS.items():
        if lowered.startswith(key):
            return section
    return None


def load_vl_rewardbench(path: str | os.PathLike, image_root: str | os.PathLike | None = None, *,
                        check_images: bool = True) -> list[PairRecord]:
    """VL-RewardBench from a local Parquet file of the Hugging Face release (images embedded) or a JSON/JSONL
    export whose ``image`` is a path under ``image_root`` (default: the file's folder).

    Rows carry ``id``, ``query``, ``response`` (two answers), ``human_ranking`` (rank per answer, lower is
    better) and ``query_source`` (the subset; mapped to General / Hallucination / Reasoning).
    """
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    records: list[PairRecord] = []
    for where, row in _rows(path):
        query = _text(row, "query", where)
        responses, ranking = row.get("response"), row.get("human_ranking")
        if (not isinstance(responses, list) or len(responses) != 2
                or not all(isinstance(r, str) for r in responses)):
            raise MultimodalBenchmarkError(f"{where}: field 'response' must be a list of two strings")
        if (not isinstance(ranking, list) or len(ranking) != 2
                or not all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in ranking)):
            raise MultimodalBenchmarkError(f"{where}: field 'human_ranking' must be a list of two numbers")
        if ranking[0] == ranking[1]:
            raise MultimodalBenchmarkError(f"{where}: field 'human_ranking' is a tie {ranking}; no preferred answer")
        best = 0 if ranking[0] < ranking[1] else 1
        source = str(row.get("query_source") or "vl-rewardbench")
        item_id = str(row.get("id") if row.get("id") is not None else where)
        image = _vlrb_image(row.get("image"), root, where, check_images)
        records.append(PairRecord(id=item_id, subset=source, prompt=query, chosen=responses[best],
                                  rejected=responses[1 - best], section=vlrb_section(source), images=(image,)))
    if not records:
        raise MultimodalBenchmarkError(f"{path}: no rows")
    return records


def records_to_examples(records: Sequence[PairRecord]) -> list[PairwiseExample]:
    """Pairs (with their images) as few-shot examples for :meth:`ActivationRM.fit`."""
    return [PairwiseExample(r.prompt, r.chosen, r.rejected, tuple(r.images), source=r.key) for r in records]
