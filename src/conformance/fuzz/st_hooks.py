"""Hooks for schemathesis's own CLI: Stripe's bracket form encoding.

SCHEMATHESIS_HOOKS=conformance.fuzz.st_hooks st run contracts/openapi.yaml -u URL -a "$KEY:"
"""

from conformance.fuzz.schema import register_serializer

register_serializer()
