"""Errors a user can act on. The CLI and app show `str(error)`; never a traceback."""


class InputError(ValueError):
    """The file cannot be analysed (unreadable, unsupported, too large...). The message says why."""


class ModelError(RuntimeError):
    """The model or its card is missing or does not honour the model-card contract."""
