"""Wires the conformance pytest plugin for everything run from this checkout."""

pytest_plugins = ["conformance.plugin"]
