"""``conformance``: run the suites, serve the mock, import the contracts.

Exit codes: 0 the target conforms; 1 it does not; 2 a usage error, bad input
or an unreachable target (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from conformance import __version__
from conformance.errors import SettingsError

if TYPE_CHECKING:
    from conformance.contracts.model import Contract

__all__ = ["main"]

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _parser() -> _Parser:
    parser = _Parser(prog="conformance", description="Conformance suite for Stripe's Account Sessions API.")
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run the conformance suites against a target",
        description="Run the suites. Arguments not listed here go to pytest.",
    )
    run.add_argument("--base-url", help="the server to test (default: the embedded mock)")
    run.add_argument("--api-key", help="API key (default: $STRIPE_API_KEY, else a test key for the mock)")
    run.add_argument("--api-version", help="send this Stripe-Version header")
    run.add_argument("--report-dir", default="reports", help="where reports go (default: reports)")
    run.add_argument("--rate", type=float, help="requests per second at most (default: 20 off loopback)")
    run.add_argument(
        "--allow-livemode",
        action="store_true",
        help="accept a live-mode key: the suite creates and deletes accounts",
    )
    run.add_argument("--contracts", help="contracts directory (default: the project's)")
    run.add_argument("-m", dest="markexpr", help='only these categories, e.g. -m "shape or validation"')
    run.add_argument(
        "--profile",
        choices=("dev", "ci", "nightly"),
        default="ci",
        help="fuzzing budget: dev (quick), ci (default), nightly (deep)",
    )
    run.add_argument("--max-examples", type=_positive_int, help="generated cases per fuzz check")
    run.add_argument("--seed", type=int, help="fuzzing seed, to reproduce a run (default: random, printed)")
    run.add_argument(
        "--record-mode",
        metavar="MODE",
        help="record or replay cassettes: none (replay only, no network), once, new_episodes, all",
    )
    run.add_argument(
        "--cassettes",
        metavar="NAME",
        help="cassette set (default: named after the target; 'documented': the docs' examples)",
    )
    run.add_argument("--cassette-dir", metavar="DIR", help="where cassette sets live (default: cassettes/)")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing to the target: run against the embedded mock and list the calls",
    )

    serve = sub.add_parser("serve", help="serve the embedded reference mock")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=12111)
    serve.add_argument("--rate-limit", type=float, help="answer 429 over this many requests per second")
    serve.add_argument("--contracts", help="contracts directory (default: the project's)")

    contracts = sub.add_parser("contracts", help="import and check the contracts")
    csub = contracts.add_subparsers(dest="action", required=True, parser_class=_Parser)
    imp = csub.add_parser("import", help="import API reference pages into contracts/")
    imp.add_argument("documents", nargs="+", type=Path, metavar="DOC.md")
    imp.add_argument("--out", type=Path, help="output directory (default: the project's contracts/)")
    _sdk_parsers(sub)
    report = sub.add_parser("report", help="work with written reports")
    rsub = report.add_subparsers(dest="action", required=True, parser_class=_Parser)
    merge = rsub.add_parser("merge", help="merge the reports of shards of one run (a CI matrix) into one")
    merge.add_argument(
        "shards", nargs="+", type=Path, metavar="DIR", help="report directories (or summary.json)"
    )
    merge.add_argument("--out", type=Path, required=True, help="where the merged report goes")
    return parser


def _sdk_parsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    sdk = sub.add_parser(
        "sdk",
        help="gate an SDK build: run it through a recording proxy and check what it sends and parses",
        description="Run the sdk suite with an SDK adapter. Arguments not listed here go to pytest.",
    )
    sdk.add_argument(
        "--adapter", required=True, help="python, node, or a command line that speaks the adapter protocol"
    )
    sdk.add_argument("--base-url", help="the server behind the proxy (default: the embedded mock)")
    sdk.add_argument("--api-key", help="API key (default: $STRIPE_API_KEY, else a test key for the mock)")
    sdk.add_argument("--api-version", help="ask the SDK for this API version on every request")
    sdk.add_argument("--report-dir", default="reports", help="where reports go (default: reports)")
    sdk.add_argument("--allow-livemode", action="store_true", help="accept a live-mode key")
    sdk.add_argument("--contracts", help="contracts directory (default: the project's)")

    proxy = sub.add_parser("proxy", help="a recording proxy in front of any target")
    proxy.add_argument("--upstream", required=True, help="the target's base URL")
    proxy.add_argument("--host", default="127.0.0.1")
    proxy.add_argument("--port", type=int, default=12112)
    proxy.add_argument("--log", type=Path, help="append each exchange to FILE as a JSON line (redacted)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args, rest = _parser().parse_known_args(args_list)
        if args.command not in ("run", "sdk") and rest:
            raise UsageError(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "run":
            return _run(args, rest)
        if args.command == "serve":
            return _serve(args)
        if args.command == "sdk":
            return _sdk(args, rest)
        if args.command == "proxy":
            return _proxy(args)
        if args.command == "report":
            return _merge(args)
        return _contracts(args)
    except (UsageError, SettingsError) as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return USAGE_ERROR


def _contract(option: str | None) -> Contract:
    from conformance.contracts.model import load_contract
    from conformance.paths import contracts_dir

    directory = Path(option).resolve() if option else contracts_dir()
    try:
        return load_contract(directory)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot load contracts from {directory}: {exc}") from exc


def _preflight(base_url: str) -> None:
    """One request to see that something answers HTTP there (standard library only:
    the HTTP client's own imports are left to pytest, which rewrites assertions)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid --base-url {base_url!r}: {exc}") from exc
    if not parts.hostname:
        raise UsageError(f"invalid --base-url {base_url!r}: no host")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, port, timeout=10)
    try:
        conn.request("POST", parts.path.rstrip("/") + "/v1/account_sessions")
        conn.getresponse().read()
    except (OSError, http.client.HTTPException) as exc:
        raise UsageError(f"target {base_url} is unreachable: {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    from conformance.paths import suites_dir
    from conformance.settings import Settings

    contract = _contract(args.contracts)
    settings = Settings(
        args.base_url,
        args.api_key,
        args.api_version,
        args.rate,
        args.allow_livemode,
        record_mode=args.record_mode,
        cassettes=args.cassettes,
        dry_run=args.dry_run,
    )
    settings.check(contract)
    if args.base_url and not settings.replaying and not args.dry_run:
        _preflight(args.base_url)
    if args.api_key:  # by environment, not argv: xdist workers inherit it, `ps` does not show it
        os.environ["STRIPE_API_KEY"] = args.api_key
    pytest_args = [
        str(suites_dir()),
        "-p",
        "conformance.plugin",
        "--report-dir",
        args.report_dir,
        "--contracts",
        str(contract.directory),
    ]
    if args.base_url:
        pytest_args += ["--target-url", args.base_url]
    for flag, value in (("--api-version", args.api_version), ("--rate", args.rate)):
        if value is not None:
            pytest_args += [flag, str(value)]
    if args.allow_livemode:
        pytest_args.append("--allow-livemode")
    for flag, text in (
        ("--record-mode", args.record_mode),
        ("--cassettes", args.cassettes),
        ("--cassette-dir", args.cassette_dir),
    ):
        if text:
            pytest_args += [flag, text]
    if args.dry_run:
        pytest_args.append("--dry-run")
    if args.markexpr:
        pytest_args += ["-m", args.markexpr]
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    pytest_args += ["--fuzz-profile", args.profile, f"--hypothesis-seed={seed}"]
    if args.max_examples:
        pytest_args += ["--fuzz-max-examples", str(args.max_examples)]
    held = io.StringIO()  # pytest's usage errors come as several lines: keep one
    with contextlib.redirect_stderr(held):
        code = int(pytest.main([*pytest_args, *rest]))
    errors = held.getvalue()
    if code == 4:
        lines = [ln for ln in errors.splitlines() if "error:" in ln.lower()] or ["error: bad arguments"]
        raise UsageError(re.split("error:", lines[-1], maxsplit=1, flags=re.I)[-1].strip())
    sys.stderr.write(errors)
    if code in (0, 1):
        return code
    if code == 5:
        raise UsageError("no checks selected (see -m and -k)")
    return USAGE_ERROR


def _serve(args: argparse.Namespace) -> int:
    from conformance.mock import create_app, serve

    app = create_app(_contract(args.contracts), rate_limit=args.rate_limit)
    print(f"conformance mock: serving http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    try:
        serve(app, args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0


def _sdk(args: argparse.Namespace, rest: list[str]) -> int:
    """``run`` with only the sdk checks, and the adapter (described by the plugin)."""
    from conformance.sdk.adapter import AdapterError, resolve

    try:
        resolve(args.adapter)
    except AdapterError as exc:
        raise UsageError(str(exc)) from exc
    argv = ["run", "-m", "sdk", "--report-dir", args.report_dir]
    for flag, value in (
        ("--base-url", args.base_url),
        ("--api-key", args.api_key),
        ("--api-version", args.api_version),
        ("--contracts", args.contracts),
    ):
        if value is not None:
            argv += [flag, value]
    if args.allow_livemode:
        argv.append("--allow-livemode")
    run_args, extra = _parser().parse_known_args(argv)
    return _run(run_args, [*extra, "--sdk-adapter", args.adapter, *rest])


def _proxy(args: argparse.Namespace) -> int:
    from conformance.mock.server import serve
    from conformance.proxy import create_proxy
    from conformance.redact import Redactor

    if not args.upstream.startswith(("http://", "https://")):
        raise UsageError(f"--upstream must start with http:// or https://, not {args.upstream!r}")
    if args.log is not None:
        try:
            args.log.open("a", encoding="utf-8").close()
        except OSError as exc:
            raise UsageError(f"cannot write the log {args.log}: {exc.strerror or exc}") from exc
    redactor = Redactor(os.environ.get("STRIPE_API_KEY"))
    app = create_proxy(args.upstream, redactor=redactor, log=args.log, keep=100)
    where = f", logging to {args.log}" if args.log else ""
    print(
        f"conformance proxy: http://{args.host}:{args.port} -> {args.upstream}{where} (Ctrl-C to stop)",
        flush=True,
    )
    try:
        serve(app, args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0


def _merge(args: argparse.Namespace) -> int:
    import json

    from conformance.report import write_reports
    from conformance.results import merge_summaries

    summaries = []
    for shard in args.shards:
        path = shard / "summary.json" if shard.is_dir() else shard
        try:
            summaries.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from exc
    merged = merge_summaries(summaries)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(merged, indent=2) + "\n")
    write_reports(args.out, merged)
    counts = merged["counts"]
    print(
        f"merged {len(summaries)} reports into {args.out}: {merged['verdict']} ({counts['passed']} passed,"
        f" {counts['failed']} failed, {counts['warnings']} warnings, {counts['skipped']} skipped)"
    )
    return 1 if merged["verdict"] == "does not conform" else 0 if merged["verdict"] == "conforms" else 2


def _contracts(args: argparse.Namespace) -> int:
    from conformance.contracts.importer import import_documents
    from conformance.contracts.store import write_contracts
    from conformance.paths import contracts_dir

    for doc in args.documents:
        if not doc.is_file():
            raise UsageError(f"no such document: {doc}")
    result = import_documents(args.documents)
    out = args.out or contracts_dir()
    write_contracts(result, out)
    if args.out is None:  # the project's contracts: its documented cassettes follow them
        from conformance.contracts.model import load_contract
        from conformance.documented import write_documented_cassettes
        from conformance.paths import cassettes_dir

        write_documented_cassettes(load_contract(out), cassettes_dir())
    features = sum(len(c["features"]) for c in result.components.values())
    graded = [d["grade"] for d in result.defaults.values()]
    print(
        f"imported {len(args.documents)} document(s) into {out}: {len(result.components)} components,"
        f" {features} features, {len(graded)} default rules ({graded.count('doc')} doc,"
        f" {graded.count('example-only')} example-only), {len(result.constraints)} constraints,"
        f" {len(result.inconsistencies)} inconsistencies, {len(result.unparsed)} unparsed statements"
    )
    for item in result.unparsed:
        print(f"  not understood ({item['source']}, {item['path']}): {item['statement']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
