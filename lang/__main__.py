"""``python -m tensorscript``: the command line (see ``tensorscript.cli``)."""
import sys

from .cli import main

sys.exit(main())
