"""The SDK gate: run a real SDK through a recording proxy and judge what it sent and parsed.

:mod:`conformance.sdk.adapter` runs adapters (standard library only: the
command line uses it before pytest starts); :mod:`conformance.sdk.cases`
builds the requests, :mod:`conformance.sdk.judge` the findings, and
:mod:`conformance.sdk.gate` ties the proxy, the adapter and the target
together for ``suites/test_sdk.py``.
"""
