"""triage: turn what residents say into a tracked, routed work list for community staff.

Public API (no web framework, no database in here)::

    from triage import Model, load_taxonomy
    model = Model.load()
    result = model.classify("3号楼电梯又坏了", received_at)

Exceptions::

    ValueError
    ├── TaxonomyError       bad taxonomy TOML (names file and key)
    ├── TrainingDataError   bad training JSONL (names file and line)
    └── TableError          unreadable input/output table (CSV, XLSX, JSONL)
    RuntimeError
    └── ModelError          model missing, damaged, stale or for another taxonomy
"""

from .examples import Example, TrainingDataError, load_examples
from .model import Model, ModelError, Result, default_model_dir, train_model
from .normalize import normalize
from .route import Routing, route
from .tables import TableError, read_table, write_table
from .taxonomy import Category, Taxonomy, TaxonomyError, load_taxonomy

__all__ = [
    "Category",
    "Example",
    "Model",
    "ModelError",
    "Result",
    "Routing",
    "TableError",
    "Taxonomy",
    "TaxonomyError",
    "TrainingDataError",
    "default_model_dir",
    "load_examples",
    "load_taxonomy",
    "normalize",
    "read_table",
    "route",
    "train_model",
    "write_table",
]
