"""localstripe on 127.0.0.1 only (its own start listens on every interface, and keeps
its state in /tmp): python localstripe_loopback.py PORT"""

import sys

from aiohttp import web
from localstripe.server import app, store

store.dump_to_disk = lambda: None  # no state file: each start is a new, empty server
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
