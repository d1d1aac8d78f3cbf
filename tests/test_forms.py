from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.forms import FormError, decode_form, encode_form

names = st.text(
    alphabet=st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
)
leaves = st.one_of(st.booleans(), st.text(max_size=10))
nested = st.recursive(
    leaves, lambda inner: st.dictionaries(names, inner, min_size=1, max_size=4), max_leaves=12
)


def _as_wire(value):
    if isinstance(value, dict):
        return {k: _as_wire(v) for k, v in value.items()}
    return "true" if value is True else "false" if value is False else value


@given(st.dictionaries(names, nested, min_size=1, max_size=4))
def test_round_trip(params):
    assert decode_form(encode_form(params)) == _as_wire(params)


def test_booleans_travel_as_words():
    body = encode_form(
        {
            "account": "acct_1",
            "components": {"payments": {"enabled": True, "features": {"x": False}}},
        }
    )
    assert body == (
        "account=acct_1&components[payments][enabled]=true&components[payments][features][x]=false"
    )


def test_percent_encoded_brackets_decode_the_same():
    assert decode_form("components%5Bpayments%5D%5Benabled%5D=true") == {
        "components": {"payments": {"enabled": "true"}}
    }


def test_arrays():
    assert decode_form("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"\xff\xfe=1", None),
        ("a=%zz", None),
        ("a[b=1", "a[b"),
        ("a[b]c=1", "a[b]c"),
        ("novalue", "novalue"),
        ("a=1&a=2", "a"),
        ("a=1&a[b]=2", "a"),
        ("a[b]=1&a=2", "a"),
        ("a" + "[x]" * 9 + "=1", "a" + "[x]" * 9),
        ("=1", None),
    ],
)
def test_malformed(body, param):
    with pytest.raises(FormError) as caught:
        decode_form(body)
    assert caught.value.param == param
