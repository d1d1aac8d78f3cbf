"""Where the contracts and the documented cassettes live: the source checkout, else the
installed package; and where a run keeps what it records (the working directory)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["cassettes_dir", "contracts_dir", "documented_cassettes_root", "project_root"]

_PACKAGE = Path(__file__).resolve().parent


def project_root() -> Path | None:
    """The checkout this package runs from (editable install), if any."""
    root = _PACKAGE.parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "contracts").is_dir() else None


def _locate(name: str) -> Path:
    root = project_root()
    if root is not None and (root / name).is_dir():
        return root / name
    return _PACKAGE / "_data" / name


def contracts_dir() -> Path:
    return _locate("contracts")


def documented_cassettes_root() -> Path:
    """The folder holding the cassette set ``documented`` (the docs' own exchange)."""
    return _locate("cassettes")


def cassettes_dir() -> Path:
    """Where cassette sets are recorded and replayed by default: ./cassettes."""
    return Path.cwd() / "cassettes"
