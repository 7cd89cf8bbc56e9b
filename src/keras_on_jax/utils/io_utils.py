"""Where user-facing messages go: stdout (interactive) or the `logging` module."""

from __future__ import annotations

import logging
import sys

_INTERACTIVE = [True]


def enable_interactive_logging():
    """Print progress and messages to stdout (the default)."""
    _INTERACTIVE[0] = True


def disable_interactive_logging():
    """Send progress and messages to Python's `logging` (logger "keras_on_jax")."""
    _INTERACTIVE[0] = False


def is_interactive_logging_enabled():
    return _INTERACTIVE[0]


def print_msg(message, line_break=True):
    if _INTERACTIVE[0]:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        logging.getLogger("keras_on_jax").info(message)
