"""No API key and no client_secret reaches a report in clear."""

from __future__ import annotations

import secrets
import string
from typing import ClassVar

from conformance.mock import Behaviour, create_app
from conformance.redact import Redactor, mask

from .faults import FAULTS


def test_mask():
    assert mask("sk_test_" + "x" * 16 + "1234") == "sk_test_****1234"  # built: no key-shaped literal
    assert mask("rk_live_short") == "rk_live_****"
    assert mask("whatever") == "****"


def test_redactor_replaces_keys_and_secrets_everywhere():
    r = Redactor("sk_test_" + "k" * 24)
    r.learn({"a": [{"client_secret": "_secret_one"}]})
    text = r.text(f"key sk_test_{'k' * 24} secret _secret_one other sk_live_{'z' * 30}")
    assert "k" * 24 not in text and "_secret_one" not in text and "z" * 30 not in text
    assert "<client_secret:1>" in text
    data = r.data({"client_secret": "_secret_two", "x": "_secret_one"})
    assert data == {"client_secret": "<client_secret:2>", "x": "<client_secret:1>"}


def test_overlapping_values_are_replaced_longest_first():
    r = Redactor()
    short, long = r.secret("_secret_abc"), r.secret("_secret_abc_def")
    many = [r.secret(f"_secret_{i:04d}") for i in range(2000)]  # a long run: thousands learned
    text = "a _secret_abc_def b _secret_abc c _secret_0042 d _secret_ab"
    assert r.text(text) == f"a {long} b {short} c {many[42]} d _secret_ab"
    assert r.text("nothing known") == "nothing known"


class Recording(Behaviour):
    issued: ClassVar[list[str]] = []

    def client_secret(self) -> str:
        secret = super().client_secret()
        self.issued.append(secret)
        return secret


def test_reports_hold_no_key_and_no_secret(committed, serve, cli, tmp_path):
    """A failing run (so that evidence is written) with a real-looking key."""
    key = "sk_test_" + "".join(secrets.choice(string.ascii_letters) for _ in range(28))
    wrong = next(f for f in FAULTS if f.name == "wrong_default")

    class Faulty(Recording, type(wrong.build(committed).state.behaviour)):
        pass

    app = create_app(committed, Faulty(committed))
    run = cli("run", "--base-url", serve(app), "--api-key", key, "--profile", "dev")
    assert run.code == 1
    assert Recording.issued
    written = b"".join(p.read_bytes() for p in run.report_dir.rglob("*") if p.is_file())
    written += (run.stdout + run.stderr).encode()
    assert key.encode() not in written
    assert key[8:].encode() not in written
    leaked = [s for s in Recording.issued if s.encode() in written]
    assert not leaked, f"{len(leaked)} client secrets written in clear"
    assert b"<client_secret:" in written  # evidence was written, redacted
