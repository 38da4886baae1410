"""The frozen program's tests run only against a built artefact (``python3 dev.py package --test``
sets FIELDKIT_FROZEN_DIR to the unpacked folder); the ordinary suite does not collect them."""

import os

collect_ignore_glob = [] if os.environ.get("FIELDKIT_FROZEN_DIR") else ["test_*.py"]
