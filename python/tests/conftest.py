"""Shared helpers: the repository's fixtures and the `lrsde` CLI built by cargo (the oracle the
package is compared with)."""

import csv
import io
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MPL = REPO / "fixtures" / "MultiPowerLaw" / "csv_400"


def _cli_path():
    env = os.environ.get("LRSDE_BIN")
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        p = REPO / "target" / profile / "lrsde"
        if p.is_file():
            return p
    return None


@pytest.fixture(scope="session")
def cli():
    """Runs the CLI; returns (exit code, stdout, stderr). LRSDE_BIN names the binary (.ci/run
    sets it, so a missing binary fails there instead of skipping)."""
    path = _cli_path()
    if path is None:
        pytest.skip("no lrsde binary: build it with `cargo build` or set LRSDE_BIN")
    assert path.is_file(), f"LRSDE_BIN={path} does not exist"

    def run(*args):
        p = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    return run


def read_csv_exact(text):
    """Columns of a CLI CSV as text; float() of a cell is exact (the CLI writes shortest
    round-trip floats)."""
    header, *rows = list(csv.reader(io.StringIO(text)))
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}
