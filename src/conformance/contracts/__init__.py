"""Contracts: the API's documented facts and rules, imported from its reference pages."""

from conformance.contracts.model import (
    Component,
    Constraint,
    Contract,
    DefaultRule,
    Feature,
    load_contract,
)

__all__ = ["Component", "Constraint", "Contract", "DefaultRule", "Feature", "load_contract"]
