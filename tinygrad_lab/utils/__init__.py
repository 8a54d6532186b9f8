"""The bottom layer: small helpers every other layer may use, importing nothing from tinygrad_lab above it.

- `checks`: argument checks (an integer or a real number that is not a bool, ...).
- `frames`: finding the user's line of code (for anomaly reports and warnings).
- `tables`: plain-text tables for terminal views.
- `files`: the one atomic writer used for every file the library saves.
"""
