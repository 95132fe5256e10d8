"""The README's import and export example runs as written, on the files a clone has."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[1]


def readme_block(heading: str) -> list[str]:
    """The command lines of the first ```sh block under ``heading``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("after_make_run", [False, True], ids=["empty", "demo-loaded"])
def test_the_import_and_export_example_runs_as_written(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after_make_run: bool
) -> None:
    """On an empty database and on the one `make run` leaves (the demo loaded): every command
    succeeds, and only the ACLED sample (bad on purpose) has rejected rows."""
    if after_make_run:
        assert run(database_url, "load-demo").exit_code == 0
    # A clone's working directory, without writing into this one.
    for name in ("app", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    lines = readme_block("Importing and exporting datasets")
    assert len(lines) >= 5
    for line in lines:
        argv = shlex.split(line, comments=True)
        if argv[0] == ".venv/bin/conflictdb":
            result = run(database_url, *argv[1:])
            assert result.exit_code == 0, (line, result.output)
            if argv[1] == "import" and argv[2] != "acled":
                assert "rejected 0" in result.stderr, (line, result.stderr)
        elif argv[0] == ".venv/bin/python":
            command, _, target = line.partition(" > ")
            done = subprocess.run(
                [sys.executable, *shlex.split(command)[1:]],
                capture_output=True,
                text=True,
                check=True,
            )
            (tmp_path / target.strip()).write_text(done.stdout, encoding="utf-8")
        else:
            pytest.fail(f"a README line the test does not know how to run: {line}")

    features = json.loads((tmp_path / "syria-2017.geojson").read_text())["features"]
    assert features and all(f["properties"]["date_start"][:4] == "2017" for f in features)
    assert len((tmp_path / "events.csv").read_text().splitlines()) > 1000
