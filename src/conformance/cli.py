"""``conformance``: run the suites, replay a run's failing cases, serve the mock, import the contracts.

Exit codes: 0 the target conforms; 1 it does not; 2 a usage error, bad input
or an unreachable target (one line on stderr, no traceback). ``contracts diff``:
0 nothing breaking, 1 something breaking, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from conformance import __version__
from conformance.errors import SettingsError
from conformance.launch import USAGE_ERROR, UsageError, load, run_suites

if TYPE_CHECKING:
    from conformance.contracts.model import Contract

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _add_options(parser: argparse.ArgumentParser, command: str) -> None:
    """The command's options, from the one option table (the plugin's have the same names)."""
    from conformance.options import OPTIONS

    for option in OPTIONS:
        if command not in option.commands:
            continue
        if option.flag:
            parser.add_argument(option.cli_flag, dest=option.dest, action="store_true", help=option.help)
            continue
        parse = option.parse

        def convert(text: str, parse: Any = parse) -> Any:
            try:
                return parse(text) if parse else text
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from exc

        convert.__name__ = option.name
        parser.add_argument(
            option.cli_flag,
            dest=option.dest,
            type=convert,
            default=None,
            metavar=option.metavar,
            help=option.help,
            required=option.name == "adapter",
        )


def _parser() -> _Parser:
    parser = _Parser(prog="conformance", description="Conformance suite for Stripe's Account Sessions API.")
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run the conformance suites against a target",
        description="Run the suites. Arguments not listed here go to pytest.",
    )
    _add_options(run, "run")
    run.add_argument("-m", dest="markexpr", help='only these categories, e.g. -m "shape or validation"')

    serve = sub.add_parser("serve", help="serve the embedded reference mock")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=12111)
    serve.add_argument("--rate-limit", type=float, help="answer 429 over this many requests per second")
    serve.add_argument(
        "--latency", type=float, default=0.0, help="answer each request after this many seconds"
    )
    serve.add_argument("--contracts", help="contracts directory (default: the installed contract)")

    contracts = sub.add_parser("contracts", help="import and check the contracts")
    csub = contracts.add_subparsers(dest="action", required=True, parser_class=_Parser)
    imp = csub.add_parser("import", help="import API reference pages into contracts/")
    imp.add_argument("documents", nargs="+", type=Path, metavar="DOC.md")
    imp.add_argument("--out", type=Path, help="output directory (default: the project's contracts/)")
    diff = csub.add_parser(
        "diff",
        help="what changed between two contracts directories",
        description="Classify each change as breaking, additive or a note. Exit 1 if any is breaking.",
    )
    diff.add_argument("old", type=Path, metavar="OLD_DIR")
    diff.add_argument("new", type=Path, metavar="NEW_DIR")
    diff.add_argument(
        "--json", action="store_true", help="a JSON list of {kind, severity, path, old, new, rule}"
    )
    sdk = sub.add_parser(
        "sdk",
        help="gate an SDK build: run it through a recording proxy and check what it sends and parses",
        description="Run the sdk suite with an SDK adapter. Arguments not listed here go to pytest.",
    )
    _add_options(sdk, "sdk")
    proxy = sub.add_parser("proxy", help="a recording proxy in front of any target")
    proxy.add_argument("--upstream", required=True, help="the target's base URL")
    proxy.add_argument("--host", default="127.0.0.1")
    proxy.add_argument("--port", type=int, default=12112)
    proxy.add_argument("--log", type=Path, help="append each exchange to FILE as a JSON line (redacted)")
    report = sub.add_parser("report", help="work with written reports")
    rsub = report.add_subparsers(dest="action", required=True, parser_class=_Parser)
    merge = rsub.add_parser("merge", help="merge the reports of shards of one run (a CI matrix) into one")
    merge.add_argument(
        "shards", nargs="+", type=Path, metavar="DIR", help="report directories (or summary.json)"
    )
    merge.add_argument("--out", type=Path, required=True, help="where the merged report goes")
    again = sub.add_parser(
        "replay-failures",
        help="send a run's failing generated cases again and judge them again",
        description="Re-send the failing fuzz and schemathesis cases a run kept (DIR/failures.json),"
        " with fresh accounts of the same kinds, and judge each as the run did. Exit 0 when every"
        " case passes now, 1 when one still fails or cannot be judged.",
    )
    again.add_argument(
        "directory", nargs="?", type=Path, default=Path("reports"), metavar="DIR", help="default: reports"
    )
    again.add_argument("--base-url", help="send them here (default: the run's target)", metavar="URL")
    again.add_argument("--contracts", help="the contracts directory (default: the run's)", metavar="DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args, rest = _parser().parse_known_args(args_list)
        if args.command not in ("run", "sdk") and rest:
            raise UsageError(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "run":
            return run_suites(args, rest)
        if args.command == "serve":
            return _serve(args)
        if args.command == "sdk":
            return _sdk(args, rest)
        if args.command == "proxy":
            return _proxy(args)
        if args.command == "report":
            return _merge(args)
        if args.command == "replay-failures":
            return _replay_failures(args)
        return _contracts(args)
    except (UsageError, SettingsError) as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return USAGE_ERROR


def _contract(option: str | None) -> Contract:
    contract: Contract = load(option)
    return contract


def _serve(args: argparse.Namespace) -> int:
    from conformance.mock import create_app, serve

    app = create_app(_contract(args.contracts), rate_limit=args.rate_limit, latency=args.latency)
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
        resolve(args.conformance_adapter)
    except AdapterError as exc:
        raise UsageError(str(exc)) from exc
    return run_suites(args, rest, markexpr="sdk")


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

    from conformance.report import note_changes, write_reports
    from conformance.results import merge_summaries

    summaries = []
    for shard in args.shards:
        path = shard / "summary.json" if shard.is_dir() else shard
        try:
            summaries.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from exc
    args.out.mkdir(parents=True, exist_ok=True)
    merged = note_changes(args.out, merge_summaries(summaries))
    write_reports(args.out, merged)
    counts = merged["counts"]
    shown = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v and k != "total")
    print(f"merged {len(summaries)} reports into {args.out}: {merged['verdict']} ({shown or 'no checks'})")
    from conformance.report.changes import change_lines

    for line in change_lines(merged.get("changes")):
        print(line)
    return 1 if merged["verdict"] == "does not conform" else 0 if merged["verdict"] == "conforms" else 2


def _replay_failures(args: argparse.Namespace) -> int:
    from conformance.errors import RunAborted
    from conformance.fuzz.failures import read_failures
    from conformance.settings import DEFAULT_MOCK_KEY, check_base_url, check_key

    saved = read_failures(args.directory)
    if args.base_url is not None:
        check_base_url(args.base_url)
    key = os.environ.get("STRIPE_API_KEY") or DEFAULT_MOCK_KEY
    check_key(key, allow_livemode=False)
    contract = _contract(args.contracts or saved.contracts)
    from conformance.fuzz.rerun import replay_failures

    try:
        replayed = replay_failures(
            saved,
            contract,
            key=key,
            base_url=args.base_url,
            say=lambda line: print(line, flush=True),
            warn=lambda line: print(line, file=sys.stderr),
        )
    except RunAborted as exc:  # unreachable, interrupted: the accounts are deleted by then
        raise UsageError(f"{exc.verdict}: {exc}") from None
    print(replayed.summary(str(saved.path)))
    return replayed.code


def _contracts(args: argparse.Namespace) -> int:
    if args.action == "diff":
        return _diff(args)
    from conformance.contracts.diff import diff_contracts, render
    from conformance.contracts.importer import import_documents
    from conformance.contracts.model import ContractError, read_contract
    from conformance.contracts.store import write_contracts
    from conformance.paths import contracts_dir

    for doc in args.documents:
        if not doc.is_file():
            raise UsageError(f"no such document: {doc}")
    result = import_documents(args.documents)
    out = args.out or contracts_dir()
    previous = None
    if (out / "components.json").is_file():  # written over: say what changed
        try:
            previous = read_contract(out)
        except ContractError as exc:
            print(f"conformance: not compared with what {out} held: {exc}", file=sys.stderr)
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
    if previous is not None:
        print(f"changes from the contract {out} held before:")
        for line in render(diff_contracts(previous, read_contract(out))):
            print(f"  {line}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    """``contracts diff OLD NEW``: 0 nothing breaking, 1 something breaking, 2 bad input."""
    import json

    from conformance.contracts.diff import BREAKING, diff_contracts, render
    from conformance.contracts.model import ContractError, read_contract

    try:
        old, new = read_contract(args.old), read_contract(args.new)
    except ContractError as exc:
        raise UsageError(str(exc)) from exc
    changes = diff_contracts(old, new)
    if args.json:
        print(json.dumps([c.as_dict() for c in changes], indent=2, ensure_ascii=False))
    else:
        print("\n".join(render(changes)))
    return 1 if any(c.severity == BREAKING for c in changes) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
