"""`python -m textanchor ...`: the command line without installing the package (a Space or a
fresh checkout), the same as the `textanchor` script that `pip install -e .` puts on PATH; and so
`torchrun --nproc_per_node=N -m textanchor train ...` for multi-process training."""
from .cli import main

raise SystemExit(main())
