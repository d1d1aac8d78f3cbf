"""conformance: a contract-testing and conformance suite for Stripe's Account Sessions API.

PYTEST_DONT_REWRITE: the plugin needs no assertion rewriting, and the command line imports
this package before pytest starts.
"""

__version__ = "0.1.0"
