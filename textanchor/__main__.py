"""`python -m textanchor ...` (and so `torchrun --nproc_per_node=N -m textanchor train ...`)."""
import sys

from .cli import main

sys.exit(main())
