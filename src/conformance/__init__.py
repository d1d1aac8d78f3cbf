"""conformance: a contract-testing and conformance suite for Stripe's Account Sessions API."""

__version__ = "0.1.0"
