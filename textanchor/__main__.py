"""`python -m textanchor ...`: the command line without installing the package (a Space or a
fresh checkout), the same as the `textanchor` script that `pip install -e .` puts on PATH."""
from .cli import main

raise SystemExit(main())
