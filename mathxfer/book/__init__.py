"""Build the book: execute chapter notebooks with papermill, then render them with Jupyter Book 1."""
