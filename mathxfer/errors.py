"""Errors that carry a message for a person: what is wrong, where, and the fix."""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input (a command-line value, a study file); printed as one line, exit status 2."""
