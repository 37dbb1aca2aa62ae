"""mathxfer: an executable reproduction of "Does Math Reasoning Improve General LLM Capabilities?".

The package holds the work; the book's notebooks only call it. Subpackages:
``survey`` (the 30-model table and the Transferability Index), ``book`` (papermill + Jupyter Book).
"""

__version__ = "0.1.0"

import warnings as _warnings

# tqdm.auto (imported by datasets/transformers) warns inside a Jupyter kernel without ipywidgets; the book's
# notebooks show no widgets, and the warning would land on the page as stderr.
_warnings.filterwarnings("ignore", message="IProgress not found")
