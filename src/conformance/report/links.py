"""Links from a rule's source to the published documentation that states it."""

from __future__ import annotations

from typing import Any

__all__ = ["doc_link"]

# the response's and the request's top-level fields: a finding at one of these paths has an
# anchor of its own on the published page
_FIELDS = ("account", "components", "client_secret", "expires_at", "livemode", "object")


def doc_link(source: str, path: str, documents: dict[str, Any]) -> str:
    """The public address of ``source`` (``page.md#section``), at the field ``path`` when the
    page has an anchor for it; "" for a source with no known address (STRIPE_WIRE.md)."""
    page = source.partition("#")[0]
    published = documents.get(page) or {}
    address = published.get("address")
    if not isinstance(address, str) or not address.startswith("https://"):
        return ""
    anchor = published.get("anchor")
    field = path.split("[", 1)[0]
    if anchor and field.split(".", 1)[0] in _FIELDS:
        return f"{address}#{anchor}-{field.replace('.', '-')}"
    return address
