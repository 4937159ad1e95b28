"""Keras networks created holding their saved weights, in one step: what a cold process's first answer waits on.

Keras builds every layer with its variables filled by their initialisers (random kernels, zeros, ones: one eager
op each), then overwrites them with the saved weights (another op each): ~500 ops for the classifier, ~0.5-0.9 s
of CPU of its 2 s load on 2 loaded cores (docs/performance.md, "CLI cold start"). Inside a StatelessScope Keras
defers creating the variables and records the values assigned to them instead; each variable is then created
once from its recorded value. The same arrays, so the same results to the last bit (tests/test_pipeline.py
compares every weight and an output with a plain load)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


@contextmanager
def created_from_assigned_values():
    """Variables created in the block start as the last value assigned to them in it (set_weights, a file's
    weights); the others (e.g. a dropout seed's state, random at every load anyway) as their initialiser makes
    them, as outside the block. Per thread, as Keras' scopes are."""
    import keras
    from keras.src.backend.common import global_state
    from keras.src.backend.common.variables import initialize_all_variables

    try:
        with keras.StatelessScope(initialize_variables=False) as assigned:
            yield
        for variable in global_state.get_global_attribute("uninitialized_variables") or []:
            value = assigned.get_current_value(variable)
            if value is not None:  # `_initializer`: private, read once by the deferred creation below
                variable._initializer = lambda shape, dtype, value=value: value
    finally:  # what StatelessScope does on exit (this thread's deferred variables, a refused file's too)
        initialize_all_variables()


def load_keras_model(path: Path | str):
    """`keras.saving.load_model(path, compile=False, safe_mode=True)`, each variable created holding its saved
    value."""
    import keras
    from keras.src.backend.common import global_state
    from keras.src.saving import saving_lib

    # Keras 3.15 caches the attributes its weight walk skips for each kind of object under one key and looks for
    # them under another ("saving_attr_skipset_" / "_skiplist_"), so it builds a throwaway Layer and lists its
    # attributes again for each of the model's 146 layers: ~0.1-0.4 s of CPU. Filled once under the key it reads:
    # the same sets, so the same walk.
    for kind in ("Layer", "Functional", "Operation"):
        key = f"saving_attr_skiplist_{kind}"
        if global_state.get_global_attribute(key) is None:
            global_state.set_global_attribute(key, saving_lib.get_attr_skipset(kind))
    with created_from_assigned_values():
        return keras.saving.load_model(path, compile=False, safe_mode=True)
