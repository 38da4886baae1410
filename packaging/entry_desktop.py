"""Entry point of the frozen desktop program (``fieldkit-desktop``: no console window on Windows).

It is the command line with no command: the same options (``--profile``, ``--lang``) apply.
"""

import sys

from fieldkit.cli import main

raise SystemExit(main(sys.argv[1:]))
