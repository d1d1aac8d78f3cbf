"""The recording proxy: forwards untouched, records raw, logs nothing secret."""

from __future__ import annotations

import base64
import gzip
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conformance.mock import create_app
from conformance.proxy import create_proxy, mask_authorization
from conformance.redact import Redactor

from .conftest import ROOT


async def echo(scope, receive, send):
    """Answers with what it received, as JSON; gzips when asked to by the path."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {
        "method": scope["method"],
        "path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.decode("latin-1"),
    }
    content = json.dumps(seen).encode()
    headers = [(b"content-type", b"application/json"), (b"x-upstream", b"echo")]
    if scope["path"].endswith("/gzip"):
        content = gzip.compress(content)
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": 207, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def test_forwards_method_path_query_headers_and_body_untouched(serve):
    upstream = serve(echo)
    proxy = create_proxy(upstream)
    url = serve(proxy)
    body = b"components%5Bpayments%5D%5Benabled%5D=true&account=acct_1&x=%C3%A9+y"
    with httpx.Client() as client:
        answer = client.request(
            "DELETE",
            f"{url}/v1/account_sessions/odd%2Fpath",
            params={"expand[]": "x", "b": "1 2"},
            content=body,
            headers={"Idempotency-Key": "k-1", "Stripe-Version": "2025-01-01", "X-Custom": "Ab C"},
        )
    assert answer.status_code == 207 and answer.headers["x-upstream"] == "echo"
    seen = answer.json()
    assert seen["method"] == "DELETE"
    assert seen["path"] == "/v1/account_sessions/odd%2Fpath"
    assert seen["query"] == "expand%5B%5D=x&b=1+2"
    assert seen["body"].encode("latin-1") == body
    headers = dict(seen["headers"])
    assert headers["idempotency-key"] == "k-1" and headers["stripe-version"] == "2025-01-01"
    assert headers["x-custom"] == "Ab C"
    assert headers["host"] == upstream.split("//")[1]  # the upstream's own host, not the proxy's
    assert "accept-encoding" in headers  # the client's own, not added by the proxy
    (record,) = proxy.since(0)
    assert record.method == "DELETE" and record.query == "expand%5B%5D=x&b=1+2" and record.body == body
    assert record.header("idempotency-key") == "k-1" and record.status == 207
    assert record.response_json() == seen


def test_adds_no_headers_of_its_own(serve):
    proxy = create_proxy(serve(echo))
    url = serve(proxy)
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    seen = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    names = {k for k, _ in seen["headers"]}
    assert not names & {"accept-encoding", "user-agent", "accept"}, names


def test_compressed_answer_goes_back_compressed_and_is_recorded_plain(serve):
    proxy = create_proxy(serve(echo))
    url = serve(proxy)
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"GET /gzip HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, content = raw.split(b"\r\n\r\n", 1)
    assert b"content-encoding: gzip" in head.lower()
    assert json.loads(gzip.decompress(content))["path"] == "/gzip"
    (record,) = proxy.since(0)
    assert record.response_json()["path"] == "/gzip"


def test_unreachable_upstream_is_a_stripe_shaped_502(serve):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proxy = create_proxy(f"http://127.0.0.1:{port}")
    answer = httpx.post(f"{serve(proxy)}/v1/account_sessions", content=b"a=b")
    assert answer.status_code == 502 and answer.json()["error"]["type"] == "api_error"
    (record,) = proxy.since(0)
    assert record.upstream_error and str(port) in record.upstream_error


def test_since_gives_only_newer_records(serve):
    proxy = create_proxy(serve(echo))
    url = serve(proxy)
    httpx.get(f"{url}/one")
    mark = proxy.count
    httpx.get(f"{url}/two")
    assert [r.path for r in proxy.since(mark)] == ["/two"]
    assert [r.path for r in proxy.since(0)] == ["/one", "/two"]


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_log_holds_no_key_and_no_client_secret(committed, serve, tmp_path, scheme):
    key = "sk_test_" + secrets.token_hex(12)
    log = tmp_path / "proxy.jsonl"
    proxy = create_proxy(serve(create_app(committed)), redactor=Redactor(), log=log)
    url = serve(proxy)
    if scheme == "basic":
        auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    else:
        auth = {"Authorization": f"Bearer {key}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=url, headers=auth) as client:
        account = client.post("/v1/accounts", content=b"type=express", headers=form).json()["id"]
        body = f"account={account}&components[payments][enabled]=true".encode()
        session = client.post("/v1/account_sessions", content=body, headers=form).json()
        echoed = client.post("/v1/account_sessions", content=f"account={key}".encode(), headers=form)
    secret = session["client_secret"]
    assert secret and echoed.status_code == 400
    text = log.read_text()
    assert key not in text and key[8:] not in text
    assert secret not in text
    assert text.count("\n") == 3
    lines = [json.loads(line) for line in text.splitlines()]
    auth_logged = dict(lines[1]["request"]["headers"])["authorization"]
    assert auth_logged == mask_authorization(auth["Authorization"]) and "****" in auth_logged
    assert lines[1]["response"]["body"]["client_secret"].startswith("<client_secret:")
    assert lines[1]["response"]["body"]["account"] == account  # the rest is kept as it was
    # in memory, for the suite, the exchange is kept raw
    assert proxy.since(0)[1].response_json()["client_secret"] == secret


def test_mask_authorization():
    key = "sk_test_abcdefghijkl1234"
    basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    assert mask_authorization(basic) == "Basic <sk_test_****1234:>"
    assert mask_authorization(f"Bearer {key}") == "Bearer sk_test_****1234"
    assert mask_authorization("Bearer not_a_key_value") == "Bearer ****"
    assert mask_authorization("Digest abc") == "****"
    assert mask_authorization("Basic %%%") == "Basic ****"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_proxy_command_serves_and_logs_redacted(committed, serve, tmp_path):
    upstream = serve(create_app(committed))
    port, log = _free_port(), tmp_path / "log.jsonl"
    key = "sk_test_" + secrets.token_hex(12)
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_API_KEY"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "proxy",
            "--upstream",
            upstream,
            "--port",
            str(port),
            "--log",
            str(log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a start-up, however busy the machine: not a speed
        while True:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/v1/accounts", auth=(key, ""), data={"type": "custom"}
                )
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["object"] == "account"
        assert answer.headers["request-id"].startswith("req_")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert f"127.0.0.1:{port} -> {upstream}" in out and "Traceback" not in err
    (line,) = log.read_text().splitlines()
    entry = json.loads(line)
    assert entry["request"]["path"] == "/v1/accounts" and entry["response"]["status"] == 200
    assert key not in line


def test_proxy_command_bad_upstream_is_one_line(cli):
    run = cli("proxy", "--upstream", "ftp://x")
    assert run.code == 2
    assert run.stderr.strip().count("\n") == 0 and "--upstream must start with" in run.stderr
