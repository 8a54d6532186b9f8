"""``python -m tinygrad_lab``: the same as the ``tinygrad-lab`` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
