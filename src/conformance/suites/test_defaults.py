"""Every documented default, for every component, under each account archetype,
and every explicit value echoed back."""

from __future__ import annotations

import pytest

from conformance.pytest.options import contract_of

pytestmark = pytest.mark.conformance_defaults


def _dependent(comp):
    """(feature, the feature its default follows) pairs within one component."""
    return [
        (f, info.default.rule["of"])
        for f, info in comp.features.items()
        if info.default
        and info.default.rule["kind"] in ("opposite", "same")
        and info.default.rule["of"] in comp.features
    ]


def pytest_generate_tests(metafunc):
    contract = contract_of(metafunc.config)
    comps = contract.components.values()
    if "featured_component" in metafunc.fixturenames:
        metafunc.parametrize("featured_component", [c.name for c in comps if c.request_features])
    if "dependent_component" in metafunc.fixturenames:
        metafunc.parametrize("dependent_component", [c.name for c in comps if _dependent(c)])


def _cells(archetype, contract, component):
    comp = contract.components[component]
    return [(archetype, component, "enabled")] + [(archetype, component, f) for f in comp.features]


def _allowed(contract, account, component, feature, value):
    """Whether this account may ask for ``feature=value`` (unknown counts as may)."""
    return contract.allowed(component, feature, value, account.controller) is not False


def test_requested_component_defaults(archetype, component, check, contract):
    """Enabled with no features: every feature takes its default."""
    account = check.account(archetype)
    check.session(
        {"account": account.id, "components": {component: {"enabled": True}}},
        focus=[component],
        cells=_cells(archetype, contract, component),
    )


def test_unrequested_components(archetype, check, contract):
    """A component not requested is answered disabled, its features at their defaults."""
    account = check.account(archetype)
    asked = contract.component_names[0]
    others = [c for c in contract.component_names if c != asked]
    cells = [cell for c in others for cell in _cells(archetype, contract, c)]
    check.session(
        {"account": account.id, "components": {asked: {"enabled": True}}}, focus=others, cells=cells
    )


def test_disabled_component_echoed(component, check, contract):
    """``enabled: false`` is answered as given."""
    account = check.account("express")
    check.session(
        {"account": account.id, "components": {component: {"enabled": False}}},
        focus=[component],
        cells=[("express", component, "enabled")],
    )


def test_explicit_features_echoed(archetype, featured_component, check, contract):
    """Each feature set to the opposite of its default (or, where the account may
    not ask for that, to its default) is answered as set."""
    component = featured_component
    account = check.account(archetype)
    comp = contract.components[component]
    defaults = contract.effective_features(component, {}, account.controller)
    given = {}
    for feat in comp.request_features:
        flipped = not defaults[feat] if defaults.get(feat) is not None else True
        allowed = _allowed(contract, account, component, feat, flipped)
        given[feat] = flipped if allowed else not flipped
    params = {
        "account": account.id,
        "components": {component: {"enabled": True, "features": given}},
    }
    check.session(params, focus=[component], cells=[(archetype, component, f) for f in given])


def test_dependent_defaults(dependent_component, check, contract):
    """A default defined by another feature follows that feature's given value."""
    component = dependent_component
    dependent = _dependent(contract.components[component])
    for archetype in contract.archetypes:
        account = check.account(archetype)
        defaults = contract.effective_features(component, {}, account.controller)
        sources = {of: not defaults[of] for _, of in dependent if defaults.get(of) is not None}
        if sources and all(_allowed(contract, account, component, f, v) for f, v in sources.items()):
            params = {
                "account": account.id,
                "components": {component: {"enabled": True, "features": sources}},
            }
            check.session(params, focus=[component], cells=[(archetype, component, f) for f, _ in dependent])
            return
    pytest.skip(f"no archetype may change what the defaults of {component} depend on")
