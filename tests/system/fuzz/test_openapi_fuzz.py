"""OpenAPI fuzzing with schemathesis: every operation, every built-in check, both databases.

The schema is loaded in-process from the ASGI app over a fresh database holding the demo
report, and requests carry a write key so writes reach their handlers. The run is
schemathesis's own engine, as ``st run`` drives it (examples, coverage, fuzzing and stateful
phases; all checks), bounded and derandomised so CI sees the same cases every time.
The long run (numbers in docs/proof.md)::

    CONFLICTDB_FUZZ_EXAMPLES=1000 .venv/bin/pytest tests/system/fuzz
"""

from __future__ import annotations

import json
import os
import re
import typing
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pydantic_core.core_schema
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.python.asgi import shutdown_lifespans

from app.auth import repository as auth_repository
from app.auth.keys import hash_key
from app.config import Settings
from app.db.session import read_session
from app.main import create_app
from tests.conftest import make_key

# Examples per operation in the fuzzing phase (the examples, coverage and stateful phases add
# their own cases on top).
FUZZ_EXAMPLES = int(os.environ.get("CONFLICTDB_FUZZ_EXAMPLES", "25"))
FUZZ_SEED = int(os.environ.get("CONFLICTDB_FUZZ_SEED", "20180418"))

# Failures already reported as app bugs (listed in docs/proof.md; those a request shows are
# also xfail(strict=True) rows of tests/system/test_bad_inputs.py), as regexes: (operation, check,
# the failure's text: message, reproducer and response) -> reason. The run prints them; any
# other failure fails the test. Remove an entry with its fix.
KNOWN_APP_BUGS: dict[tuple[str, str, str], str] = {}

# Pydantic's own error types: a schema-valid request must never get one of these back, since
# the OpenAPI document is generated from the same models. `value_error` is the exception: it
# is what model validators raise for rules across fields that JSON Schema cannot state
# (latitude with longitude, date_end after date_start).
_PYDANTIC_TYPES = frozenset(typing.get_args(pydantic_core.core_schema.ErrorType)) - {"value_error"}


def fuzz_config(write_key: str, admin_key: str, victim_key_id: int) -> SchemathesisConfig:
    defaults = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
    refusals = [*map(str, (400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429)), "5xx"]
    return SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "headers": {"Authorization": f"Bearer {write_key}"},
            "generation": {
                "mode": "all",  # positive and negative data
                "max-examples": FUZZ_EXAMPLES,
                "deterministic": True,
                # The run authenticates with the key above; generated credentials for the
                # document's other scheme would make every request carry two, a 400.
                "with-security-parameters": False,
                # No example database: a run must not depend on what an earlier run found.
                "database": "none",
            },
            "operations": [
                # Key management needs an admin key; everything else gets the write key.
                {
                    "include-path-regex": "^/v1/keys",
                    "headers": {"Authorization": f"Bearer {admin_key}"},
                },
                # Revoking goes to a key made for it, not to the keys the run is using.
                {
                    "include-path": "/v1/keys/{key_id}",
                    "include-method": "DELETE",
                    "parameters": {"path.key_id": victim_key_id},
                },
            ],
            "checks": {
                # A schema-valid request may still be rightly refused for reasons no schema can
                # express: 422 for a quote absent from the body, a forged cursor or an unknown
                # event type; 412 for an If-Match naming a version that is not current. Both
                # are declared. `semantic_refusal_only` below keeps the 422 from hiding a
                # disagreement between the document and the validation.
                "positive_data_acceptance": {"expected-statuses": [*defaults, "412", "422"]},
                # A refusal is a refusal: RFC 9110 (13.2.1) lets a stale If-Match be answered
                # 412 before the content is read, so invalid content may get a 412.
                "negative_data_rejection": {"expected-statuses": refusals},
                # A missing If-Match is a 428 (RFC 6585), the precise answer to that request.
                "missing_required_header": {
                    "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
                },
            },
        }
    )


# Schemathesis keeps one registry of checks per process; only this module runs schemathesis.
@schemathesis.check
def semantic_refusal_only(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """A schema-valid request refused with 422 must be refused for a rule beyond the schema."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != 422:
        return
    problem = json.loads(response.content)
    structural = [e for e in problem.get("errors", []) if e["type"] in _PYDANTIC_TYPES]
    if structural:
        raise AssertionError(
            f"Schema-valid request failed schema-level validation: {structural[:3]}"
        )


@dataclass
class FuzzRun:
    """What the engine reported: cases per operation, and one entry per distinct failure."""

    cases: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    known: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def record(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event)
        elif isinstance(event, events.NonFatalError):
            self.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            self.errors.append(f"fatal: {event.exception!r}")

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.cases[recorder.label] += len(recorder.cases)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                # The operation that failed (the stateful phase labels its scenarios as a
                # whole), then one report per operation, check and kind of failure.
                operation = failure.operation or recorder.label
                key = (operation, check.name, failure.title)
                if key in self.failures or key in self.known:
                    continue
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction else None
                got = f"{response.status_code} {response.content[:400]!r}" if response else "-"
                text = (
                    f"{operation} [{check.name}] {failure.title}\n"
                    f"  {failure.message.strip()}\n"
                    f"  reproduce: {check.failure_info.code_sample}\n"
                    f"  got: {got}"
                )
                reason = _known_bug(operation, check.name, text)
                if reason:
                    self.known[key] = reason
                else:
                    self.failures[key] = text

    def report(self) -> str:
        parts = [*self.failures.values(), *self.errors]
        return f"{len(parts)} distinct problems:\n\n" + "\n\n".join(parts)


def _known_bug(operation: str, check: str, text: str) -> str | None:
    for (op_pattern, check_pattern, text_pattern), reason in KNOWN_APP_BUGS.items():
        if (
            re.fullmatch(check_pattern, check)
            and re.fullmatch(op_pattern, operation)
            and re.search(text_pattern, text, re.DOTALL)
        ):
            return reason
    return None


@pytest.mark.slow
def test_openapi_fuzz(
    settings: Settings,
    demo: dict[str, Any],
    write_key: str,
    admin_key: str,
    database_url: str,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A second app over the database the demo was loaded into: schemathesis runs its lifespan
    # itself and keeps it until told to stop, so it must not share the `client` fixture's app.
    app = create_app(settings)
    victim = make_key(database_url, ["read"], name="fuzz-revocable")
    with read_session(app.state.engine) as session:
        victim_record = auth_repository.key_by_hash(session, hash_key(victim))
    assert victim_record is not None
    config = fuzz_config(write_key, admin_key, victim_record["id"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    run = FuzzRun()
    try:
        for event in schemathesis.engine.from_schema(schema).execute():
            run.record(event)
    finally:
        shutdown_lifespans()

    # The figures for docs/proof.md, shown even when the test passes.
    with capsys.disabled():
        print(
            f"\n{request.node.nodeid}: {sum(run.cases.values())} cases over "
            f"{len(run.cases)} operations and stateful scenarios (examples: {FUZZ_EXAMPLES})"
        )
        for reason, count in Counter(run.known.values()).items():
            print(f"  known app bug ({count} failed checks): {reason}")
    operations = {
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
    }
    assert operations <= set(run.cases), f"operations not exercised: {operations - set(run.cases)}"
    assert not run.failures and not run.errors, run.report()
