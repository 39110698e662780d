import numpy as np
import pytest

import lrsde
from conftest import read_csv_exact

MODEL = "nqm:dim=16,hmax=1,power=1,noise=1,batch=16,x0=1"
SCHEDULE = "cosine:peak=0.5,steps=500,warmup=20"
COLUMNS = ["step", "lr", "mean", "std", "se", "p05", "p50", "p95", "diverged"]


@pytest.mark.parametrize("method", ["em", "milstein"])
def test_simulate_matches_the_cli_bit_for_bit(cli, tmp_path, method):
    out = tmp_path / "sim.csv"
    code, _, err = cli("simulate", "--model", MODEL, "--schedule", SCHEDULE, "--paths", 512,
                       "--method", method, "--seed", 7, "-o", out)
    assert code == 0, err
    expected = read_csv_exact(out.read_text())
    df = lrsde.simulate(model=MODEL, schedule=SCHEDULE, paths=512, method=method, seed=7)
    assert list(df.columns) == COLUMNS == list(expected)
    assert df["step"].tolist() == [int(v) for v in expected["step"]]
    assert df["diverged"].tolist() == [int(v) for v in expected["diverged"]]
    for col in COLUMNS[1:-1]:
        # Exact: the CLI writes shortest round-trip floats.
        assert df[col].tolist() == [float(v) for v in expected[col]], col


def test_same_seed_same_numbers_any_thread_count():
    kw = dict(model=MODEL, schedule=lrsde.Schedule(SCHEDULE), paths=256, seed=3)
    a = lrsde.simulate(threads=1, **kw)
    b = lrsde.simulate(threads=3, **kw)
    c = lrsde.simulate(**kw)
    assert a.equals(b) and a.equals(c)
    assert not a.equals(lrsde.simulate(threads=1, **{**kw, "seed": 4}))


def test_bad_arguments_raise_value_errors(cli):
    code, _, err = cli("simulate", "--model", "nqm:dim=bad", "--schedule", SCHEDULE)
    assert code == 2
    with pytest.raises(ValueError) as e:
        lrsde.simulate(model="nqm:dim=bad", schedule=SCHEDULE)
    assert err.strip() == "error: --" + str(e.value)
    with pytest.raises(ValueError, match="threads must be at least 1"):
        lrsde.simulate(schedule=SCHEDULE, threads=0)
    with pytest.raises(FileNotFoundError, match="no_such_schedule.csv"):
        lrsde.simulate(schedule="no_such_schedule.csv")
