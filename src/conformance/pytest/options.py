"""The plugin's options, built from :data:`conformance.options.OPTIONS`, and what they resolve to."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.options import OPTIONS, Option

if TYPE_CHECKING:
    from conformance.contracts.model import Contract
    from conformance.settings import Settings

__all__ = ["contract_of", "option_values", "pytest_addoption", "settings_of"]

GROUP = "conformance"
SETTINGS = pytest.StashKey["Settings"]()


def _argparse_type(option: Option) -> Any:
    parse = option.parse
    if parse is None:
        return None

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = option.name
    return convert


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "conformance: Stripe Account Sessions conformance checks")
    for option in OPTIONS:
        if option.flag:
            group.addoption(option.plugin_flag, dest=option.dest, action="store_true", help=option.help)
        else:
            group.addoption(
                option.plugin_flag,
                dest=option.dest,
                default=option.default,
                type=_argparse_type(option),
                metavar=option.metavar,
                help=option.help,
            )


def option_values(config: pytest.Config) -> dict[str, Any]:
    return {option.name: config.getoption(option.dest) for option in OPTIONS}


def settings_of(config: pytest.Config) -> Settings:
    """The run's settings, built once from the options (and the environment)."""
    found = config.stash.get(SETTINGS, None)
    if found is None:
        from conformance.settings import Settings

        found = Settings.from_values(option_values(config))
        config.stash[SETTINGS] = found
    return found


def contract_of(config: pytest.Config) -> Contract:
    from conformance.contracts.model import load_contract
    from conformance.paths import contracts_dir

    option = settings_of(config).contracts
    return load_contract(Path(option).resolve() if option else contracts_dir())
