"""The organisation's sync server (``fieldkit hub serve``): Starlette on uvicorn, over HTTPS.

A layer beside the command line: it calls services only (:mod:`fieldkit.services.sync_inbox`),
so it serves any coordinator profile, whatever its storage.
"""
