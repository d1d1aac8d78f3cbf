"""Generated requests: hypothesis strategies from the contract, and their runner."""

from conformance.fuzz.strategies import MUTATIONS, Case, invalid_cases, valid_cases

__all__ = ["MUTATIONS", "Case", "invalid_cases", "valid_cases"]
