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


BATCH_MODEL = "nqm:dim=16,hmax=1,power=1,noise=1,batch=64,x0=1"
BATCH_RAMP = "constant:peak=64,steps=500,warmup=200"


def _assert_equal_to_csv(df, expected):
    assert list(df.columns) == COLUMNS == list(expected)
    assert df["step"].tolist() == [int(v) for v in expected["step"]]
    assert df["diverged"].tolist() == [int(v) for v in expected["diverged"]]
    for col in COLUMNS[1:-1]:
        assert df[col].tolist() == [float(v) for v in expected[col]], col


def test_batch_schedule_matches_the_cli_bit_for_bit(cli, tmp_path):
    out = tmp_path / "sim.csv"
    code, _, err = cli("simulate", "--model", BATCH_MODEL, "--schedule", SCHEDULE, "--paths", 256,
                       "--seed", 5, "--batch-schedule", BATCH_RAMP, "-o", out)
    assert code == 0, err
    expected = read_csv_exact(out.read_text())
    kw = dict(model=BATCH_MODEL, schedule=SCHEDULE, paths=256, seed=5)
    ramp = lrsde.Schedule(BATCH_RAMP)
    # The spec, the Schedule object, its per-update array and a `batch_size` file: one grid.
    batch_file = tmp_path / "batch.csv"
    batch_file.write_text("step,batch_size\n" + "".join(
        f"{t + 1},{b!r}\n" for t, b in enumerate(ramp.lr().tolist())))
    for arg in (BATCH_RAMP, ramp, ramp.lr(), ramp.lr().tolist(), str(batch_file), batch_file):
        _assert_equal_to_csv(lrsde.simulate(batch_schedule=arg, **kw), expected)
    # The ramp starts at batch 64/200: its early updates are noisier, so the table differs.
    assert not lrsde.simulate(**kw).equals(lrsde.simulate(batch_schedule=BATCH_RAMP, **kw))


def test_constant_batch_equal_to_the_models_batch_changes_nothing():
    kw = dict(model=BATCH_MODEL, schedule=SCHEDULE, paths=128, seed=2)
    plain = lrsde.simulate(**kw)
    assert plain.equals(lrsde.simulate(batch_schedule="constant:peak=64,steps=500", **kw))
    # Shorter than the LR schedule: the last batch holds.
    assert plain.equals(lrsde.simulate(batch_schedule=[64.0], **kw))


def _as_cli_error(exc):
    # The CLI names the flag `--batch-schedule` where Python names the argument.
    return "error: --" + str(exc).replace("batch_schedule", "batch-schedule", 1)


def test_bad_batch_schedules_raise_the_clis_errors(cli):
    code, _, err = cli("simulate", "--model", BATCH_MODEL, "--schedule", SCHEDULE,
                       "--batch-schedule", "cosine:peak=64,steps=10,final=0")
    assert code == 2
    with pytest.raises(ValueError) as e:
        lrsde.simulate(model=BATCH_MODEL, schedule=SCHEDULE,
                       batch_schedule="cosine:peak=64,steps=10,final=0")
    assert err.strip() == _as_cli_error(e.value)
    code, _, err = cli("simulate", "--model", "ou", "--schedule", SCHEDULE,
                       "--batch-schedule", BATCH_RAMP)
    assert code == 2
    with pytest.raises(ValueError) as e:
        lrsde.simulate(model="ou", schedule=SCHEDULE, batch_schedule=BATCH_RAMP)
    assert err.strip() == _as_cli_error(e.value)
    with pytest.raises(ValueError, match=r"batch_schedule: batch size at step 2 is 0"):
        lrsde.simulate(model=BATCH_MODEL, schedule=SCHEDULE, batch_schedule=[64.0, 0.0])
    with pytest.raises(ValueError, match="batch_schedule: expected a one-dimensional array"):
        lrsde.simulate(model=BATCH_MODEL, schedule=SCHEDULE, batch_schedule=[[64.0]])
    with pytest.raises(ValueError, match="more than max_memory"):
        lrsde.simulate(model=BATCH_MODEL, schedule=SCHEDULE,
                       batch_schedule="constant:peak=64,steps=1000000000000")
    with pytest.raises(FileNotFoundError, match="no_such_batches.csv"):
        lrsde.simulate(model=BATCH_MODEL, schedule=SCHEDULE, batch_schedule="no_such_batches.csv")
