"""How the mock is served, and the shortcuts it takes to answer quickly: none may change an answer."""

from __future__ import annotations

import os
import socket
import warnings
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from conformance.mock import behaviour, create_app
from conformance.mock.behaviour import _ALNUM, _token
from conformance.mock.server import _config, listen
from conformance.oracle import Oracle

KEY = "sk_test_serve"


def test_served_with_httptools_on_asyncio(committed):
    config = _config(create_app(committed), host="127.0.0.1", port=0)
    config.load()
    assert issubclass(config.http_protocol_class, HttpToolsProtocol)
    assert config.loop == "asyncio"


def test_listening_socket_has_tcp_nodelay():
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


def test_concurrent_keep_alive_clients_each_get_their_own_answers(committed, serve):
    url = serve(create_app(committed))
    made = httpx.post(f"{url}/v1/accounts", data={"type": "custom"}, auth=(KEY, ""))
    account = made.json()["id"]
    body = {
        "account": account,
        "components[payments][enabled]": "true",
        "components[payments][features][refund_management]": "false",
    }

    def client(n: int) -> list[dict]:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as http:
            return [http.post("/v1/account_sessions", data=body).json() for _ in range(n)]

    with ThreadPoolExecutor(8) as pool:
        answers = [a for batch in pool.map(client, [25] * 8) for a in batch]
    assert len(answers) == 200
    assert all(a["account"] == account for a in answers)
    assert all(a["components"]["payments"]["features"]["refund_management"] is False for a in answers)
    assert len({a["client_secret"] for a in answers}) == 200


def test_tokens_are_letters_and_digits_of_the_length_asked_and_all_drawn():
    tokens = [_token(n) for n in (1, 14, 48, 5000)]
    assert [len(t) for t in tokens] == [1, 14, 48, 5000]
    assert set("".join(tokens)) <= set(_ALNUM)
    assert set(tokens[-1]) == set(_ALNUM)  # 5000 draws from 62: every character turns up
    assert len({_token(48) for _ in range(1000)}) == 1000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_process_does_not_repeat_its_parents_tokens():
    if len(behaviour._pool) < 48:  # the pool holds characters the parent has not handed out yet
        _token(len(behaviour._pool) + 1)
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork in a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, _token(48).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 48
    assert child != _token(48)


def test_memoised_defaults_are_never_shared_between_answers(committed):
    oracle = Oracle(committed)
    accounts = {"acct_x": {"controller.losses.payments": "stripe"}}
    params = {"account": "acct_x", "components": {"payments": {"enabled": "true"}}}
    first = oracle.expect(params, accounts, livemode=False)
    pristine = oracle.expect(params, accounts, livemode=False)
    for component in first.components.values():
        component["enabled"] = "tampered"
        for feature in component["features"]:
            component["features"][feature] = "tampered"
    first.rules.clear()
    again = oracle.expect(params, accounts, livemode=False)
    assert again == pristine
    assert "tampered" not in repr(again.components)


def test_a_component_asked_with_only_enabled_answers_as_one_not_asked(committed):
    oracle = Oracle(committed)
    accounts = {"acct_x": {"controller.losses.payments": "application"}}
    bare = oracle.expect({"account": "acct_x", "components": {}}, accounts, livemode=False)
    for name in committed.components:
        asked = oracle.expect(
            {"account": "acct_x", "components": {name: {"enabled": "true"}}}, accounts, livemode=False
        )
        assert asked.components[name] == {**bare.components[name], "enabled": True}
        assert asked.rules == bare.rules


def test_a_connection_that_sends_nothing_is_closed(committed, serve):
    """An idle connection is closed after the keep-alive timeout (5 s), even one that
    never sent a byte: 2,000 of them held open cost the mock 43 MB before."""
    url = serve(create_app(committed))
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as idle:
        idle.settimeout(30)
        assert idle.recv(1) == b""  # closed by the server, not by the timeout


def test_a_client_gone_before_its_body_came_raises_nothing(committed, serve):
    """A client that closes its connection halfway through a body is nobody to answer:
    the app ends quietly (an exception escaping it is a traceback in the server's log,
    printed from the server's thread while another may be formatting one of its own)."""
    import threading

    app, ended, escaped = create_app(committed), threading.Event(), []

    async def watched(scope, receive, send):
        try:
            await app(scope, receive, send)
        except Exception as exc:
            escaped.append(exc)
        finally:
            if scope["type"] == "http":
                ended.set()

    host, port = serve(watched).removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as gone:
        gone.sendall(
            b"POST /v1/account_sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\naccount=a"
        )
    assert ended.wait(30), "the app never ended the request"
    assert escaped == []


def test_what_the_mock_keeps_is_bounded_in_bytes(committed):
    from conformance.mock.state import AccountStore, IdempotencyStore, StoredResponse

    keys = IdempotencyStore(max_bytes=100_000)
    for n in range(200):
        keys.put("sk_test_x", f"key-{n}", StoredResponse("f", 200, b"x" * 5_000, {}))
    assert keys.bytes <= 100_000 and keys.get("sk_test_x", "key-199") is not None
    assert keys.get("sk_test_x", "key-0") is None
    accounts = AccountStore(max_bytes=100_000)
    for n in range(200):
        accounts.add({"id": f"acct_{n}", "country": "x" * 5_000}, {})
    assert accounts.bytes <= 100_000 and "acct_199" in accounts and "acct_0" not in accounts


def test_long_values_and_idempotency_keys_are_refused(committed, serve):
    url = serve(create_app(committed))
    long = httpx.post(f"{url}/v1/accounts", data={"type": "custom", "country": "x" * 60_000}, auth=(KEY, ""))
    assert long.status_code in (400, 413) and long.json()["error"]["type"] == "invalid_request_error"
    country = httpx.post(
        f"{url}/v1/accounts", data={"type": "custom", "country": "x" * 5_001}, auth=(KEY, "")
    )
    assert country.status_code == 400 and country.json()["error"]["param"] == "country"
    made = httpx.post(f"{url}/v1/accounts", data={"type": "custom"}, auth=(KEY, ""))
    form = {"account": made.json()["id"], "components[payments][enabled]": "true"}
    for length, status in ((255, 200), (256, 400)):
        answer = httpx.post(
            f"{url}/v1/account_sessions", data=form, auth=(KEY, ""), headers={"Idempotency-Key": "k" * length}
        )
        assert answer.status_code == status, answer.text
