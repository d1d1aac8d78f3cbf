"""The pytest side of conformance: a plugin (entry point ``conformance``) with
prefixed options (``--conformance-...``), markers (``conformance_<category>``)
and fixtures (``conformance_...``). See :mod:`conformance.pytest.plugin`."""
