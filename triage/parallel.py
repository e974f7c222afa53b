"""Batch tagging on all cores (`triage tag --workers N`) and on a Dask cluster (`--engine dask`).

Workers load the model from its folder once (the file hash is checked there too) instead of
receiving a pickled copy with every chunk; results come back in input order.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

from .model import Model

__all__ = ["tag_dask", "tag_parallel"]

_worker_model: Model | None = None


def _init(path: str, taxonomy_path: str) -> None:
    global _worker_model
    from .taxonomy import load_taxonomy

    _worker_model = Model.load(path, load_taxonomy(taxonomy_path or None))


def _tag_chunk(rows: list[dict], column: str, now: dt.datetime, received_column: str | None) -> list[dict]:
    from .tagging import tag_rows

    return tag_rows(_worker_model, rows, column, now, received_column)


def tag_parallel(model: Model, rows: Sequence[dict], column: str, now: dt.datetime, received_column: str | None,
                 workers: int, chunk: int = 500, progress: Callable[[int], None] | None = None) -> list[dict]:
    """Tag rows in `workers` processes; same output as `tag_rows`, in the same order."""
    if model.path is None:
        raise ValueError("并行打标签需要一个已保存的模型文件夹。")
    workers = max(1, min(workers, os.cpu_count() or 1))
    chunks = [list(rows[i:i + chunk]) for i in range(0, len(rows), chunk)]
    out: list[list[dict]] = [None] * len(chunks)  # type: ignore[list-item]
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(str(model.path), model.taxonomy.source)) as pool:
        futures = {pool.submit(_tag_chunk, c, column, now, received_column): i for i, c in enumerate(chunks)}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            i = futures[future]
            out[i] = future.result()
            if progress:
                progress(len(out[i]))
    return [row for part in out for row in part]


def _tag_partition(frame, model_path: str, taxonomy_path: str, column: str, now: dt.datetime,
                   time_column: str | None = None):
    """Dask partition → tagged partition (the model is loaded once per worker process)."""
    import pandas as pd

    global _worker_model
    if _worker_model is None or str(_worker_model.path) != model_path:
        _init(model_path, taxonomy_path)
    from .tagging import TAG_FIELDS, tag_rows

    rows = frame.to_dict("records")
    tagged = tag_rows(_worker_model, rows, column, now, time_column)
    out = pd.DataFrame(tagged, index=frame.index, columns=list(frame.columns) + [f for f in TAG_FIELDS if f not in frame.columns])
    for key in ("secondary", "co_owners"):
        out[key] = out[key].map(lambda v: "、".join(v) if isinstance(v, (list, tuple)) else v)
    return out


def tag_dask(model: Model, source: str | Path, target: str | Path, column: str, now: dt.datetime,
             scheduler: str | None = None, workers: int | None = None, blocksize: str = "16MB",
             read_times: bool = True) -> int:
    """Tag a large CSV or JSONL file on Dask (a LocalCluster unless `scheduler` is given); returns rows written.

    Every worker must see the same model folder and taxonomy path (shared disk or the same image).
    """
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    from .tables import TableError
    from .tagging import TAG_FIELDS

    if model.path is None:
        raise ValueError("Dask 打标签需要一个已保存的模型文件夹。")
    source, target = Path(source), Path(target)
    suffix = source.suffix.lower()
    if suffix == ".csv":
        frame = dd.read_csv(source, blocksize=blocksize, dtype=str, encoding=_csv_encoding(source), keep_default_na=False)
    elif suffix == ".jsonl":
        frame = dd.read_json(source, lines=True, blocksize=blocksize, dtype=False)
    else:
        raise TableError("Dask 引擎支持 .csv 和 .jsonl 输入（大表请先导出为 CSV）。")
    from .tables import find_text_column
    from .tagging import find_time_column

    column = find_text_column([str(c) for c in frame.columns], column)
    time_column = find_time_column([str(c) for c in frame.columns]) if read_times else None
    meta = frame._meta.copy()
    for key in TAG_FIELDS:
        if key not in meta.columns:
            meta[key] = "" if key not in ("confidence",) else 0.0
    meta = meta.astype({k: object for k in TAG_FIELDS if k not in ("confidence",)})
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.WARNING)
        client = Client(cluster)
    try:
        tagged = frame.map_partitions(_tag_partition, str(model.path), model.taxonomy.source, column, now, time_column,
                                     meta=meta)
        if target.suffix.lower() == ".jsonl":
            parts = tagged.to_json(str(target.with_suffix("")) + "-*.jsonl", orient="records", lines=True, force_ascii=False)
            _concat(parts, target)
        else:
            tagged.to_csv(str(target), single_file=True, index=False, encoding="utf-8-sig")
        return int(tagged.map_partitions(len).compute().sum())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _csv_encoding(path: Path) -> str:
    head = path.open("rb").read(65536)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as e:
            if e.start > len(head) - 4:  # a character cut at the end of the sample
                return encoding
    return "gb18030"


def _concat(parts: Sequence[str], target: Path) -> None:
    with target.open("w", encoding="utf-8") as out:
        for part in sorted(parts):
            with open(part, encoding="utf-8") as fh:
                out.write(fh.read())
            os.remove(part)
