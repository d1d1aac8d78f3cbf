"""The embedded reference mock."""

from conformance.mock.app import create_app
from conformance.mock.behaviour import Behaviour
from conformance.mock.server import EmbeddedServer, serve

__all__ = ["Behaviour", "EmbeddedServer", "create_app", "serve"]
