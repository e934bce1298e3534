"""Shared shaping of report frames: interval columns, zero-filled grids, local times.

Pure (pandas only). Every interval report ends with :func:`complete_grid`, which is
what makes "an interval without calls shows zeros" true for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reports.intervals import bucket_index, bucket_starts, to_utc
from reports.request import ReportRequest

#: Output name of each internal grouping column.
DISPLAY_NAMES = {"queue_name": "queue", "interval_start": "interval_start"}


def interval_column(epoch_seconds: pd.Series, req: ReportRequest) -> pd.Series:
    """The interval start (aware, site zone) of each epoch time."""
    return bucket_starts(to_utc(epoch_seconds), req.interval, req.window)


def local_times(epoch_seconds: pd.Series, tz: str) -> pd.Series:
    """Epoch seconds shown as aware timestamps in the site's zone (NaT for none)."""
    utc = to_utc(pd.Series(pd.to_numeric(epoch_seconds, errors="coerce"), index=epoch_seconds.index))
    return pd.Series(utc.dt.tz_convert(tz), index=epoch_seconds.index)


def complete_grid(frame: pd.DataFrame, req: ReportRequest, keys: Sequence[str], values: Sequence[str],
                  extra_groups: Sequence[tuple[object, ...]] = ()) -> pd.DataFrame:
    """One row per interval x group, in order, with ``values`` 0 where nothing happened.

    Groups are those present in ``frame`` plus ``extra_groups`` (e.g. every configured
    queue), so a quiet queue still shows a row of zeros in every interval.
    """
    buckets = bucket_index(req.window, req.interval)
    index: pd.Index
    if keys:
        present = [tuple(row) for row in frame[list(keys)].drop_duplicates().itertuples(index=False, name=None)]
        groups = sorted(set(present) | set(extra_groups), key=lambda g: tuple(str(x) for x in g))
        columns = list(zip(*groups, strict=True)) if groups else [() for _ in keys]
        index = pd.MultiIndex.from_arrays(
            [buckets.repeat(len(groups)), *[np.tile(np.array(c, dtype=object), len(buckets)) for c in columns]],
            names=["interval_start", *keys])
    else:
        index = pd.Index(buckets, name="interval_start")
    indexed = frame.set_index(["interval_start", *keys])[list(values)]
    full = indexed.reindex(index).fillna(0)
    for column in values:
        # Counts stay integers even when no row had any (an empty frame has no dtype
        # to go by): every measure is a count unless its name ends in _s (seconds).
        if frame[column].dtype.kind in "iub" or not column.endswith("_s"):
            full[column] = full[column].astype("int64")
    return full.reset_index()


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename internal grouping columns to the names users see."""
    return frame.rename(columns=DISPLAY_NAMES)
