"""Record and replay the suite's HTTP calls with vcrpy: one YAML cassette a check.

Layout: ``cassettes/<set>/<suite module>/<check>.yaml``, plus ``_session.yaml``
(the archetype accounts made before the checks and deleted after them) and
``meta.yaml`` (what a replay needs to generate the same requests: the seed,
the fuzz budget). ``<set>`` is the target's name (``embedded``, ``127.0.0.1-8080``,
``api.stripe.com``) unless ``--cassettes`` names one.

Before anything is written, the API key in ``Authorization`` becomes a
placeholder (the scheme stays), and every ``client_secret`` in a body becomes
``<client_secret:N>`` -- the same secret the same placeholder within a cassette,
so uniqueness and replay checks still hold when replayed. ``Idempotency-Key``
values are kept. Each recorded answer carries the time it was recorded, so
that time-dependent checks (``expires_at``) judge a replay by its recording.

Requests match on method, path and the decoded bracket form: key order and
the API key do not matter.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from conformance.errors import SettingsError
from conformance.forms import FormError, decode_form
from conformance.options import RECORD_MODES
from conformance.redact import KEY_PATTERN, Redactor

__all__ = ["RECORDED_AT", "RECORD_MODES", "CassetteSet", "set_name"]

RECORDED_AT = "X-Conformance-Recorded-At"
KEY_PLACEHOLDER = "<api-key>"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=,+-]+")
_NUMBERED = re.compile(r"<client_secret:(\d+)>")


def set_name(base_url: str | None) -> str:
    """The default cassette set of a target: ``embedded``, or its host and port."""
    if not base_url:
        return "embedded"
    parts = urlsplit(base_url)
    host = parts.hostname or "target"
    return f"{host}-{parts.port}" if parts.port else host


def _body_text(body: Any) -> str:
    if body is None:
        return ""
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


@lru_cache(maxsize=8192)
def _canonical(text: str) -> str:
    """A body as a canonical string: the same for every spelling of the same form.
    Cached: vcrpy compares each request with every recorded one."""
    try:
        return json.dumps(decode_form(text), sort_keys=True)
    except FormError:
        return "raw:" + text


def form_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: bodies equal as decoded bracket forms (key order free)."""
    a, b = _body_text(r1.body), _body_text(r2.body)
    if a != b and _canonical(a) != _canonical(b):
        raise AssertionError(f"form bodies differ: {a[:200]!r} != {b[:200]!r}")


class _Scrub:
    """The scrubbing hooks of one cassette: its own secret numbering.

    vcrpy runs the response hook again on every interaction it loads: a placeholder
    keeps its number, and a value that is not one (a cassette edited by hand) gets a
    number no placeholder of the file has, so an edit stays an edit on replay."""

    def __init__(self, existing: str = "") -> None:
        self.secrets: dict[str, str] = {}
        self.used = {int(n) for n in _NUMBERED.findall(existing)}

    def placeholder(self, secret: str) -> str:
        if _NUMBERED.fullmatch(secret):
            return secret
        if secret not in self.secrets:
            number = max(self.used, default=0) + 1
            self.used.add(number)
            self.secrets[secret] = f"<client_secret:{number}>"
        return self.secrets[secret]

    def request(self, request: Any) -> Any:
        for name in list(request.headers):
            if name.lower() == "authorization":
                scheme = str(request.headers[name]).split(" ", 1)[0]
                request.headers[name] = f"{scheme} {KEY_PLACEHOLDER}"
            elif name.lower() == "cookie":
                del request.headers[name]
        if request.body:
            request.body = KEY_PATTERN.sub(KEY_PLACEHOLDER, _body_text(request.body)).encode()
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        raw = response.get("body", {}).get("string", b"")
        content = raw if isinstance(raw, bytes) else str(raw).encode()
        learner = Redactor()
        learner.learn_bytes(content)  # from the bytes: parsed or not, duplicate keys included
        text = _body_text(raw)
        for secret in sorted(learner.secrets(), key=len, reverse=True):
            text = text.replace(secret, self.placeholder(secret))
        text = KEY_PATTERN.sub(KEY_PLACEHOLDER, text)
        response["body"]["string"] = text.encode() if isinstance(raw, bytes) else text
        if not any(name.lower() == RECORDED_AT.lower() for name in response["headers"]):
            response["headers"][RECORDED_AT] = [repr(time.time())]  # not again when loading
        return response


@dataclass
class CassetteSet:
    root: Path
    name: str
    mode: str

    @property
    def directory(self) -> Path:
        return self.root / self.name

    @property
    def replaying(self) -> bool:
        return self.mode == "none"

    def path_for(self, nodeid: str) -> Path:
        module, _, test = nodeid.partition("::")
        folder = Path(module).with_suffix("").name
        return self.directory / folder / f"{_UNSAFE.sub('_', test)}.yaml"

    def has(self, nodeid: str) -> bool:
        return self.path_for(nodeid).is_file()

    def read_meta(self) -> dict[str, Any]:
        path = self.directory / "meta.yaml"
        if not path.is_file():
            return {}
        try:
            meta = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise SettingsError(f"broken cassette metadata {path}: {exc}") from exc
        return meta if isinstance(meta, dict) else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=True))

    @contextmanager
    def use(self, path: Path) -> Iterator[Any]:
        import vcr

        recorder = vcr.VCR(
            record_mode=self.mode,
            match_on=["method", "path", "form_body"],
            decode_compressed_response=True,
        )
        recorder.register_matcher("form_body", form_body)
        scrub = _Scrub(path.read_text(errors="replace") if path.is_file() else "")
        try:
            with recorder.use_cassette(
                str(path),
                before_record_request=scrub.request,
                before_record_response=scrub.response,
            ) as cassette:
                yield cassette
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            if path.is_file() and not _loads(path):
                raise SettingsError(f"broken cassette {path}: {type(exc).__name__}: {exc}") from exc
            raise


def _loads(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and isinstance(data.get("interactions"), list)


def replay_errors() -> tuple[type[BaseException], ...]:
    """What vcrpy raises for a request its cassette cannot answer."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    return (CannotOverwriteExistingCassetteException,)
