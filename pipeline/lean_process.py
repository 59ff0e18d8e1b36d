"""Set up a process to run the pipeline lean: no pandas, and an Arrow allocator that gives memory back.

`gristmill run` and `demo` call `lean_pipeline_process()` first thing, before pyarrow or Beam
is imported. Measured on bench/perf_pipeline.py's 1,147 pages, one worker (the runner's
own process, `VmHWM`): 441 MiB before, 401 MiB without pandas, 372 MiB with both.

**No pandas (-44 MiB, -0.4 s of imports).** No gristmill code uses pandas, yet a run loaded
it through optional imports:
- `import apache_beam`: `apache_beam.typehints` (pandas batch types for batched DoFns),
  `apache_beam.io.textio` (docstrings of `ReadFromCsv`/`ReadFromJson`) and, through Beam's
  GCP IO, `google.cloud.bigquery` (DataFrame results);
- pyarrow, at the first list it converts (`Table.from_pylist` in `WriteShards`): its pandas
  shim checks whether a value is a pandas object.

Each guards the import with `try: import pandas / except ImportError`, so an ImportError
switches those features off and nothing else. `refuse_pandas()` installs an import finder
that raises it. (`sys.modules["pandas"] = None` is not the same: pyarrow's compiled shim
then gets `None` back instead of an ImportError and fails on its `__version__`.)

**Arrow's system allocator (-29 MiB at the peak).** Arrow's default pool (mimalloc) keeps
what converting and encoding a row group allocated: RSS rose 47 MiB while `WriteShards`
wrote 800 rows (3 MiB of Parquet), and the run's peak is there. With the C library's
allocator, which hands large blocks back, it rose 12 MiB. Arrow reads the choice from
`ARROW_DEFAULT_MEMORY_POOL` once, when it first allocates, so it is set in the environment
(a user's own setting wins); SDK worker processes that Beam starts inherit it. Writing
shards is not where Arrow's allocator speed matters.

Beam starts its own SDK worker processes (the DirectRunner's `multi_processing` mode,
portable runners) with a fixed command line, so those still import pandas.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

REFUSED = "pandas"
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


class _RefusePandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == REFUSED:
            raise ImportError(f"gristmill runs the pipeline without {REFUSED} (pipeline/lean_process.py)", name=name)
        return None


def refuse_pandas() -> bool:
    """Install the finder (once). False when it is too late to help: pandas is already imported."""
    if any(isinstance(finder, _RefusePandas) for finder in sys.meta_path):
        return True
    if REFUSED in sys.modules:
        return False
    sys.meta_path.insert(0, _RefusePandas())
    return True


def allow_pandas() -> None:
    """Remove the finder (tests, or a caller that needs pandas after a run)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _RefusePandas)]


def lean_pipeline_process() -> bool:
    """Both settings; call before pyarrow and Beam are imported. True when pandas is now refused
    (undo with `allow_pandas()`)."""
    os.environ.setdefault(ARROW_POOL_VARIABLE, "system")
    return refuse_pandas()
