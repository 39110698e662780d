"""Curves from files and DataFrames, and pickling (so sweeps run under multiprocessing)."""

import concurrent.futures
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import lrsde
from conftest import MPL

CSV = MPL / "cosine_24000.csv"


def test_dataframe_gives_the_same_curve_as_the_file():
    # pandas 3 parses floats exactly by default and deprecates the option older ones need.
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    df = pd.read_csv(CSV, **exact)
    from_df = lrsde.Curve.from_dataframe(df, name="cosine_24000")
    assert from_df == lrsde.read_curve(CSV)


def test_dataframe_round_trip():
    curve = lrsde.read_curve(CSV)
    df = curve.to_dataframe()
    assert list(df.columns) == ["step", "lr", "loss"]
    back = lrsde.Curve.from_dataframe(df, loss="loss", name=curve.name)
    # Every row of the file has an LR and a loss, so the rows alone rebuild the curve.
    assert back == curve
    assert back.to_dataframe().equals(df)


def test_hugging_face_log_history():
    # trainer_state.json: training rows carry learning_rate and loss, evaluation rows eval_loss.
    state = {"log_history": [
        {"step": 10, "learning_rate": 1e-3, "loss": 3.5},
        {"step": 10, "eval_loss": 3.4},
        {"step": 20, "learning_rate": 5e-4, "loss": 3.1},
        {"step": 20, "eval_loss": 3.0},
    ]}
    df = pd.DataFrame(json.loads(json.dumps(state))["log_history"])
    c = lrsde.Curve.from_dataframe(df, loss="eval_loss", lr="learning_rate")
    assert c.steps.tolist() == [10, 20] and c.losses.tolist() == [3.4, 3.0]
    # The file readers' rule: linear warmup from 0 to the first LR row, linear between rows.
    expected = [1e-3 * s / 10 for s in range(1, 11)] + [1e-3 + (5e-4 - 1e-3) * k / 10 for k in range(1, 11)]
    assert np.allclose(c.lrs, expected, rtol=0, atol=1e-18)


def test_wandb_history_columns_and_defaults():
    df = pd.DataFrame({"_step": [5, 10], "lr": [0.1, 0.1], "val_loss": [2.0, 1.5]})
    c = lrsde.Curve.from_dataframe(df, step="_step")
    assert c.losses.tolist() == [2.0, 1.5] and c.name == "val_loss"
    # `_step` is a step alias, as in a file.
    assert lrsde.Curve.from_dataframe(df) == c
    with pytest.raises(ValueError, match="missing column `step`"):
        lrsde.Curve.from_dataframe(df.rename(columns={"_step": "iteration"}))
    with pytest.raises(ValueError, match="no loss column"):
        lrsde.Curve.from_dataframe(pd.DataFrame({"step": [1], "lr": [0.1]}))


def write_table(path, df):
    path.write_text(df.to_csv(index=False, na_rep=""))


def test_column_names_resolve_as_the_file_readers_do(tmp_path):
    rows = {"Step": [10, 20, 30], "LR": [1e-3, 8e-4, 5e-4], "Val_Loss": [3.1, 2.9, 2.8]}
    df = pd.DataFrame(rows)
    path = tmp_path / "run.csv"
    write_table(path, df)
    from_file = lrsde.read_curve(path)
    assert lrsde.Curve.from_dataframe(df, name=from_file.name) == from_file
    assert lrsde.Curve.from_dataframe(rows, name=from_file.name) == from_file
    assert lrsde.Curve.from_dataframe(df).name == "Val_Loss"
    # Aliases (Hugging Face / W&B names), and names given in another case.
    aliased = df.rename(columns={"Step": "global_step", "LR": "train/learning_rate", "Val_Loss": "eval/loss"})
    assert lrsde.Curve.from_dataframe(aliased, name=from_file.name) == from_file
    assert lrsde.Curve.from_dataframe(df, step="STEP", lr="lr", loss="val_loss", name=from_file.name) == from_file
    # The canonical loss names come before the aliases, in the CLI's order.
    both = df.assign(train_loss=[9.0, 9.0, 9.0])
    assert lrsde.Curve.from_dataframe(both).losses.tolist() == [3.1, 2.9, 2.8]


@pytest.mark.parametrize("kwargs, flags, match", [
    ({"loss": "nope"}, ["--loss-column", "nope"], "no loss column; tried `nope`"),
    ({"step": "iter"}, ["--step-column", "iter"], "missing column `iter`"),
    ({"lr": "eta"}, ["--lr-column", "eta"], "missing column `eta`"),
    ({"batch": "bs"}, ["--batch-column", "bs"], "missing column `bs`"),
])
def test_unknown_columns_raise_the_cli_message(cli, tmp_path, kwargs, flags, match):
    df = pd.DataFrame({"step": [10, 20], "lr": [1e-3, 1e-3], "loss": [3.0, 2.9]})
    path = tmp_path / "run.csv"
    write_table(path, df)
    code, _, err = cli("fit", "--curve", path, *flags, "--law", "mpl", "-o", tmp_path / "f.json")
    assert code == 2
    with pytest.raises(ValueError, match=match) as e:
        lrsde.Curve.from_dataframe(df, name=str(path), **kwargs)
    assert err.strip() == "error: " + str(e.value)


def test_ambiguous_columns_raise_the_cli_message():
    # Two columns that differ only in case are both `lr`: the readers refuse to guess.
    df = pd.DataFrame({"step": [1, 2], "lr": [0.1, 0.1], "LR": [0.2, 0.2], "loss": [3.0, 2.0]})
    with pytest.raises(ValueError, match="2 columns could be the lr column: `lr`, `LR`; choose one with --lr-column"):
        lrsde.Curve.from_dataframe(df)


def test_bad_rows_are_value_errors():
    with pytest.raises(ValueError, match="row 1: step 1 is not after"):
        lrsde.Curve(step=[1, 1], loss=[3.0, 2.0], lr=[0.1, 0.1])
    with pytest.raises(ValueError, match="one value per row"):
        lrsde.Curve(step=[1, 2], loss=[3.0], lr=[0.1, 0.1])
    # A bad LR is refused where it is given, naming its row (not later, by the law).
    with pytest.raises(ValueError, match=r"row 1 \(step 2\): lr -0.1 is negative"):
        lrsde.Curve(step=[1, 2], loss=[3.0, 2.0], lr=[0.1, -0.1])
    with pytest.raises(ValueError, match=r"row 0 \(step 1\): lr inf is not finite"):
        lrsde.Curve(step=[1, 2], loss=[3.0, 2.0], lr=[np.inf, 0.1])


def test_read_curve_errors_carry_the_cli_message(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("step,lr,loss\n1,0.1,x\n")
    code, _, err = cli("fit", "--curve", bad, "-o", tmp_path / "f.json")
    assert code == 2
    with pytest.raises(ValueError) as e:
        lrsde.read_curve(bad)
    assert err.strip() == "error: " + str(e.value)
    with pytest.raises(FileNotFoundError):
        lrsde.read_curve(tmp_path / "missing.csv")


def test_pickle_round_trips():
    curve = lrsde.read_curve(CSV)
    assert pickle.loads(pickle.dumps(curve)) == curve
    with pytest.warns(UserWarning):
        fit = lrsde.fit([curve], law="power")
    back = pickle.loads(pickle.dumps(fit))
    assert back.to_json() == fit.to_json()
    assert back.predict("constant:peak=3e-4,steps=1000").equals(
        fit.predict("constant:peak=3e-4,steps=1000"))


def _final_loss(args):
    fit, schedule = args
    return float(fit.predict(schedule)["loss"].iloc[-1])


def test_sweep_in_worker_processes():
    with pytest.warns(UserWarning):
        fit = lrsde.fit([lrsde.read_curve(CSV)], law="power")
    schedules = [lrsde.Schedule(f"cosine:peak={p},steps=2000") for p in (1e-4, 3e-4)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        remote = list(pool.map(_final_loss, [(fit, s) for s in schedules]))
    # 1e-4 is no fit curve's peak: predict says so (the workers print it).
    with pytest.warns(UserWarning, match="not the peak of any fit curve"):
        local = [_final_loss((fit, s)) for s in schedules]
    assert remote == local


def test_without_pandas_tables_are_dicts_of_arrays(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    table = lrsde.simulate(schedule="constant:peak=0.1,steps=20", paths=8)
    assert isinstance(table, dict) and isinstance(table["mean"], np.ndarray)
    assert list(table) == ["step", "lr", "mean", "std", "se", "p05", "p50", "p95", "diverged"]


def test_lr_between_rows_and_warmup_as_the_cli():
    # wsdcon_9 logs its LR every 128 updates and drops it from 3e-4 to 9e-5 at update 8000
    # (rows at 7936 and 8000): linear makes that a ramp, hold and auto keep it a drop.
    path = MPL / "wsdcon_9.csv"
    # Read linearly (the default), the ramp is pointed out as the CLI points it out.
    with pytest.warns(UserWarning, match="jumps from 3.000e-4 to 9.000e-5 between the rows at "
                      "steps 7936 and 8000, read as a 64-update ramp"):
        ramp = lrsde.read_curve(path).lrs
    assert 9e-5 < ramp[7967] < 3e-4
    for rule in ("hold", "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            held = lrsde.read_curve(path, lr_between_rows=rule).lrs
        assert held[7998] == 3e-4 and held[7999] == pytest.approx(9e-5, rel=1e-12)
    # auto leaves a smooth decay linear; hold makes a staircase of it.
    cos = MPL / "cosine_24000.csv"
    linear = lrsde.read_curve(cos).lrs
    assert np.array_equal(lrsde.read_curve(cos, lr_between_rows="auto").lrs, linear)
    assert not np.array_equal(lrsde.read_curve(cos, lr_between_rows="hold").lrs, linear)
    # The first row is at 2176: warmup="linear:2160" reaches the peak at update 2160.
    warm = lrsde.read_curve(path, warmup="linear:2160", lr_between_rows="hold").lrs
    assert warm[2159] == 3e-4 and warm[1079] == pytest.approx(1.5e-4)
    # A table gives the same curve as the file with the same keywords.
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    df = pd.read_csv(path, **exact)
    kw = {"warmup": "linear:2160", "lr_between_rows": "auto"}
    assert lrsde.Curve.from_dataframe(df, name="wsdcon_9", **kw) == lrsde.read_curve(path, **kw)
    # Tables and arrays read linearly warn as files do, naming the curve.
    with pytest.warns(UserWarning, match="wsdcon_9: the logged LR jumps from 3.000e-4"):
        lrsde.Curve.from_dataframe(df, name="wsdcon_9")
    rows = {"step": [10, 20, 30, 40], "loss": [3.0, 2.9, 2.7, 2.6], "lr": [0.1, 0.1, 0.01, 0.01]}
    with pytest.warns(UserWarning, match="run: .* between the rows at steps 20 and 30, read as a "
                      "10-update ramp"):
        lrsde.Curve(**rows, name="run")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lrsde.Curve(**rows, name="run", lr_between_rows="auto").lrs[28] == 0.1


@pytest.mark.parametrize("kwargs, match", [
    ({"lr_between_rows": "step"}, "lr_between_rows: `step` is not one of linear, hold, auto"),
    ({"warmup": "linear:x"}, "warmup: `x` is not a whole number of steps"),
])
def test_bad_fill_keywords_name_the_keyword(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lrsde.read_curve(MPL / "wsdcon_9.csv", **kwargs)
    with pytest.raises(ValueError, match=match):
        lrsde.Curve(step=[1, 2], loss=[3.0, 2.9], lr=[1e-3, 1e-3], **kwargs)
