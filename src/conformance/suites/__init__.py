"""The conformance suites: ``pytest --pyargs conformance.suites`` runs them."""
