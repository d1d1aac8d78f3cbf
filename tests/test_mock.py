"""The embedded mock in-process (ASGI): the wire protocol, and no 500 for bad input."""

from __future__ import annotations

import asyncio
import base64
import logging

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.mock import create_app

KEY = "sk_test_mockunit"
FORM = {"content-type": "application/x-www-form-urlencoded"}


class InProcess:
    """A synchronous face on httpx's ASGI transport: the app runs in this process,
    and an exception inside it reaches the test instead of becoming a 500."""

    def __init__(self, app) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")
        self.headers = self.http.headers

    def request(self, method, url, **kwargs) -> httpx.Response:
        return self.loop.run_until_complete(self.http.request(method, url, **kwargs))

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture
def in_process():
    clients = []

    def make(app):
        clients.append(InProcess(app))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(committed, in_process):
    c = in_process(create_app(committed))
    c.headers["Authorization"] = f"Bearer {KEY}"
    return c


@pytest.fixture
def account(client):
    made = client.post("/v1/accounts", content="type=express", headers=FORM)
    assert made.status_code == 200, made.text
    return made.json()["id"]


def post(client, body, **headers):
    return client.post("/v1/account_sessions", content=body, headers={**FORM, **headers})


def stripe_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["request-id"].startswith("req_")
    error = response.json()["error"]
    assert error["type"].endswith("_error") and error["message"]
    return error


def test_session(client, account):
    r = post(client, f"account={account}&components[payments][enabled]=true")
    assert r.status_code == 200 and r.headers["request-id"].startswith("req_")
    body = r.json()
    assert body["object"] == "account_session" and body["account"] == account
    assert body["livemode"] is False and len(body["components"]) == 19


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (None, 401),
        ("Bearer not_a_key_abcd", 401),
        ("Basic " + base64.b64encode(f"{KEY}:".encode()).decode(), 200),
        ("Basic !!!", 401),
        ("Bearer sk_live_mockunit", 200),
    ],
)
def test_auth(client, account, auth, status):
    headers = {**FORM, "Authorization": auth} if auth else FORM
    if auth is None:
        del client.headers["Authorization"]
    r = client.post(
        "/v1/account_sessions",
        content=f"account={account}&components[payments][enabled]=true",
        headers=headers,
    )
    assert r.status_code == status
    if status == 401:
        assert "not_a_key_abcd" not in r.text
    else:
        assert r.json()["livemode"] is (auth == "Bearer sk_live_mockunit")


def test_idempotency(client, account):
    body = f"account={account}&components[payments][enabled]=true"
    first = post(client, body, **{"Idempotency-Key": "k1"})
    again = post(client, body, **{"Idempotency-Key": "k1"})
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert (
        post(client, body, **{"Idempotency-Key": "k2"}).json()["client_secret"]
        != first.json()["client_secret"]
    )
    conflict = post(client, body.replace("true", "false"), **{"Idempotency-Key": "k1"})
    assert stripe_error(conflict, 400)["type"] == "idempotency_error"
    refused = post(client, f"account={account}", **{"Idempotency-Key": "k3"})
    assert refused.status_code == 400
    assert post(client, body, **{"Idempotency-Key": "k3"}).status_code == 200


def test_accounts(client):
    made = client.post("/v1/accounts", content="controller[stripe_dashboard][type]=none", headers=FORM).json()
    assert made["controller"]["requirement_collection"] == "application"
    assert made["controller"]["losses"]["payments"] == "application"
    assert client.get(f"/v1/accounts/{made['id']}").json()["id"] == made["id"]
    assert client.delete(f"/v1/accounts/{made['id']}").json() == {
        "id": made["id"],
        "object": "account",
        "deleted": True,
    }
    assert stripe_error(client.get(f"/v1/accounts/{made['id']}"), 404)["code"] == "resource_missing"
    bad = client.post("/v1/accounts", content="controller[losses][payments]=nobody", headers=FORM)
    assert stripe_error(bad, 400)["param"] == "controller[losses][payments]"
    unknown = client.post("/v1/accounts", content="controller[nope]=1", headers=FORM)
    assert stripe_error(unknown, 400)["param"] == "controller[nope]"


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"account": "x"}', {"content-type": "application/json"}, 400),
        (b"account=x&components[payments", FORM, 400),
        (b"\xff\xfe\xfd", FORM, 400),
        (b"a" + b"[b]" * 20 + b"=1", FORM, 400),
        (b"account=" + b"x" * 70_000, FORM, 413),
        (b"account=%e2%28%a1", FORM, 400),
        (
            b"--x\r\nContent-Disposition: form-data\r\n",
            {"content-type": "multipart/form-data; boundary=x"},
            400,
        ),
    ],
)
def test_malformed_input_is_a_stripe_4xx(client, body, headers, status):
    stripe_error(client.post("/v1/account_sessions", content=body, headers=headers), status)


def test_unknown_route(client):
    stripe_error(client.get("/v1/nothing"), 404)
    stripe_error(client.get("/v1/account_sessions"), 404)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.lists(
            st.sampled_from(
                [
                    "account=",
                    "components",
                    "[payments]",
                    "[enabled]",
                    "=true",
                    "&",
                    "[",
                    "]",
                    "%",
                    "[features]",
                    "maybe",
                    "acct_1",
                    "[]",
                    "=",
                    "%5B",
                ]
            ),
            max_size=30,
        ).map(lambda parts: "".join(parts).encode()),
    ),
    ctype=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""]),
)
def test_no_input_makes_a_500(client, body, ctype):
    r = client.post("/v1/account_sessions", content=body, headers={"content-type": ctype} if ctype else {})
    assert 200 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"
    if r.status_code >= 400:
        assert r.json()["error"]["type"]


def test_rate_limit(committed, in_process):
    c = in_process(create_app(committed, rate_limit=2))
    statuses = [
        c.post(
            "/v1/accounts",
            content="type=custom",
            headers={**FORM, "Authorization": f"Bearer {KEY}"},
        )
        for _ in range(5)
    ]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and limited[0].headers["stripe-should-retry"] == "true"
    assert limited[0].json()["error"]["type"] == "rate_limit_error"


def test_nothing_is_logged(committed, serve, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    url = serve(create_app(committed))
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as c:
        acct = c.post("/v1/accounts", content="type=express", headers=FORM).json()["id"]
        secret = c.post(
            "/v1/account_sessions",
            content=f"account={acct}&components[payments][enabled]=true",
            headers=FORM,
        ).json()["client_secret"]
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert KEY not in logged and secret not in logged and acct not in logged


@pytest.mark.parametrize(
    "key", ["sk_nope_" + "a" * 24, "sk_bad_0123456789", "pk_test_abc", "sk_test_", "sk_test_x-y"]
)
def test_a_malformed_key_is_refused_masked(in_process, committed, key):
    """Only sk_test_, sk_live_, rk_test_ and rk_live_ keys are well-formed (as the official
    SDKs expect): anything else is a 401 that does not echo the key."""
    client = in_process(create_app(committed))
    answer = client.post(
        "/v1/accounts", content="type=custom", headers={**FORM, "Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "invalid_request_error"
    assert key not in answer.text
