"""Shipped SDK adapters that are Python scripts (run by path, standalone)."""
