"""Where the contracts and suites live: the source checkout, else the installed package."""

from __future__ import annotations

from pathlib import Path

__all__ = ["cassettes_dir", "contracts_dir", "project_root", "suites_dir"]

_PACKAGE = Path(__file__).resolve().parent


def project_root() -> Path | None:
    """The checkout this package runs from (editable install), if any."""
    root = _PACKAGE.parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "suites").is_dir() else None


def _locate(name: str) -> Path:
    root = project_root()
    if root is not None and (root / name).is_dir():
        return root / name
    return _PACKAGE / "_data" / name


def contracts_dir() -> Path:
    return _locate("contracts")


def cassettes_dir() -> Path:
    """The project's cassettes/, else ./cassettes (an installed package records where it runs)."""
    root = project_root()
    return root / "cassettes" if root is not None else Path.cwd() / "cassettes"


def suites_dir() -> Path:
    return _locate("suites")
