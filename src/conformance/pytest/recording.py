"""The pytest side of cassettes: registered by the plugin when ``--conformance-record-mode`` is given.

- each check runs inside its own cassette;
- the archetype accounts are made before the checks (``_session_setup.yaml``)
  and deleted after them (``_session_teardown.yaml``), so that a check's
  cassette does not depend on which check happened to run first;
- replaying (``none``), a check with no cassette in the set is not run (and
  counted), the seed and fuzz budget of the recording are reused, and a
  request the cassette cannot answer fails the check, naming the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pytest

from conformance.cassettes import CassetteSet
from conformance.errors import SettingsError
from conformance.pytest.markers import is_check

if TYPE_CHECKING:
    from conformance.target import Target

__all__ = ["DOCUMENTED", "RECORDING", "Recording"]

DOCUMENTED = "documented"  # the cassette set generated from the docs' examples
RECORDING: pytest.StashKey[Recording] = pytest.StashKey()


class Recording:
    def __init__(self, config: pytest.Config, cassettes: CassetteSet) -> None:
        self.config = config
        self.cassettes = cassettes
        self.meta = cassettes.read_meta()
        self.unrecorded: list[str] = []

    @property
    def recorded_url(self) -> str | None:
        url = self.meta.get("base_url")
        return url if isinstance(url, str) else None

    def recorded(self, name: str) -> Any:
        """A setting of the recording, when replaying it."""
        return self.meta.get(name) if self.cassettes.replaying else None

    # -- the session ------------------------------------------------------------------------
    def session_cassette(self, name: str) -> AbstractContextManager[Any] | None:
        """The cassette of the run's own requests before or after the checks (the profile
        and its accounts; their deletion). Replaying, it must have been recorded -- but
        for the docs' own exchange, which has no target to profile (None: nothing to do)."""
        path = self.cassettes.directory / name
        if self.cassettes.replaying and not path.is_file():
            if self.cassettes.name == DOCUMENTED:
                return None
            raise SettingsError(f"broken cassette set {self.cassettes.directory}: {name} is missing")
        return self.cassettes.use(path)

    def started(self, target: Target) -> None:
        """After the profile: keep what a replay needs to know of this recording."""
        from conformance.pytest.options import settings_of

        if self.cassettes.replaying:
            return
        settings = settings_of(self.config)
        self.cassettes.write_meta(
            {
                "base_url": target.base_url if target.mode == "url" else None,
                "target": target.name,
                "recorded": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "seed": self.config.getoption("hypothesis_seed", default=None),
                "profile": settings.profile,
                "max_examples": settings.max_examples,
                "api_version": target.client.api_version,
            }
        )

    # -- the checks -------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)  # after other deselections: count only what would have run
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.cassettes.replaying:
            return
        missing = [item for item in items if not self.cassettes.has(item.nodeid)]
        if missing:
            self.unrecorded = [item.nodeid for item in missing]
            config.hook.pytest_deselected(items=missing)
            items[:] = [item for item in items if self.cassettes.has(item.nodeid)]

    @pytest.fixture(autouse=True)
    def _conformance_cassette(self, request: pytest.FixtureRequest) -> Iterator[None]:
        if not is_check(request.node):
            yield
            return
        request.getfixturevalue("conformance_target")  # its accounts go in the session cassettes
        path = self.cassettes.path_for(request.node.nodeid)
        with self.cassettes.use(path):
            yield
        if not self.cassettes.replaying and not path.exists():  # a check that sent nothing
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("interactions: []\nversion: 1\n")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        mode = self.cassettes.mode
        where = self.cassettes.directory
        terminalreporter.write_line(f"cassettes: {where} (record mode {mode})")
        if self.unrecorded:
            terminalreporter.write_line(
                f"cassettes: {len(self.unrecorded)} checks have no cassette in {where} and were not run"
            )
