"""Generated requests over every component, feature and archetype.

Valid cases (any subset of components, any mix of enabled and features, the
constraints respected) must be answered exactly as the oracle predicts;
invalid ones (one mutation of a valid case) must be refused with 400, the
right error type and the exact bracket param. Failures are shrunk to a
minimal request and shown with the seed and a curl line to replay it.
"""

from __future__ import annotations

import pytest

from conformance.fuzz import invalid_cases, valid_cases

pytestmark = pytest.mark.conformance_fuzz


def test_valid_requests_answered_as_documented(fuzz, contract):
    fuzz.explore(lambda n: valid_cases(contract, n), fuzz.send, fuzz.valid)


def test_invalid_requests_refused_with_the_right_param(fuzz, contract):
    fuzz.explore(lambda n: invalid_cases(contract, n), fuzz.send, fuzz.invalid)
