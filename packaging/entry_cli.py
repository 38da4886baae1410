"""Entry point of the frozen command line (``fieldkit``); with no command it starts the desktop.

The frozen program is also the media child process: the parent starts this executable with the
worker flag instead of ``python -I -m fieldkit.services.media_worker`` (there is no Python to run).
"""

import sys

from fieldkit.services.media_worker import FROZEN_WORKER_FLAG

if len(sys.argv) > 1 and sys.argv[1] == FROZEN_WORKER_FLAG:
    from fieldkit.services.media_worker import main as media_worker_main

    raise SystemExit(media_worker_main(sys.argv[2:]))

from fieldkit.cli import main

raise SystemExit(main())
