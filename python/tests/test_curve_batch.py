"""Curves with batch sizes (a batch ramp) from tables, as the CLI reads a `batch_size` column."""

import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import lrsde

LAW = "sim:model=nqm,dim=4"


def ramp_rows():
    """A 400-update run at a constant LR whose batch doubles after update 200; the loss is
    logged every 20 updates (NaN elsewhere), the LR and batch size every update."""
    step = np.arange(1, 401, dtype=float)
    loss = np.array([
        2.0 + 1.0 / math.sqrt(s) + (0.02 if s <= 200 else 0.01) if s % 20 == 0 else math.nan
        for s in range(1, 401)
    ])
    batch = np.where(step <= 200, 64.0, 128.0)
    return {"step": step, "lr": np.full(400, 1e-3), "loss": loss, "batch_size": batch}


def write_csv(path, cols):
    cell = lambda v: "" if math.isnan(v) else repr(float(v))
    lines = [",".join(cols)]
    for i in range(len(cols["step"])):
        lines.append(",".join(str(int(cols["step"][i])) if c == "step" else cell(cols[c][i]) for c in cols))
    path.write_text("\n".join(lines) + "\n")


def test_a_batch_column_is_read_as_the_file_reader_reads_it(tmp_path):
    rows = ramp_rows()
    path = tmp_path / "ramp.csv"
    write_csv(path, rows)
    from_file = lrsde.read_curve(path)
    # The ramp as logged: every update has its row, so nothing is interpolated.
    assert from_file.batches.tolist() == [64.0] * 200 + [128.0] * 200
    df = pd.DataFrame(rows)
    assert lrsde.Curve.from_dataframe(df, name="ramp") == from_file
    arrays = lrsde.Curve(
        step=rows["step"], loss=rows["loss"], lr=rows["lr"], batch=rows["batch_size"], name="ramp"
    )
    assert arrays == from_file
    # An alias column and an explicit `batch=` name, as `--batch-column` does.
    assert lrsde.Curve.from_dataframe(df.rename(columns={"batch_size": "batch"}), name="ramp") == from_file
    bs = df.rename(columns={"batch_size": "bs"})
    assert lrsde.Curve.from_dataframe(bs, batch="bs", name="ramp") == from_file
    assert lrsde.Curve.from_dataframe(bs, name="ramp").batches is None
    write_csv(tmp_path / "bs.csv", dict(bs))
    named = lrsde.read_curve(tmp_path / "bs.csv", batch_column="bs")
    assert named.batches.tolist() == from_file.batches.tolist()
    with pytest.raises(ValueError, match="missing column `bs`"):
        lrsde.Curve.from_dataframe(df, batch="bs")


def test_sparse_batch_rows_follow_the_readers_rule():
    # First value held back to update 1, linear between rows, last held (the LR's rule
    # without the warmup from 0).
    c = lrsde.Curve(step=[2, 4, 6], loss=[3.0, 2.5, 2.0], lr=[0.1] * 3, batch=[8, 16, math.nan])
    assert c.batches.tolist() == [8.0, 8.0, 12.0, 16.0, 16.0, 16.0]


def test_batches_survive_pickle_and_dataframe_round_trip():
    c = lrsde.Curve.from_dataframe(pd.DataFrame(ramp_rows()), name="ramp")
    back = pickle.loads(pickle.dumps(c))
    assert back == c and back.batches.tolist() == c.batches.tolist()
    df = c.to_dataframe()
    assert list(df.columns) == ["step", "lr", "loss", "batch_size"]
    assert df["batch_size"].tolist() == [64.0] * 10 + [128.0] * 10
    plain = lrsde.Curve(step=[1], loss=[1.0], lr=[0.1])
    assert list(plain.to_dataframe().columns) == ["step", "lr", "loss"]


def test_bad_batch_values_name_the_row_and_column():
    with pytest.raises(ValueError, match=r"row 1: column `batch`: batch size is -1; it must be finite and > 0"):
        lrsde.Curve(step=[1, 2], loss=[3.0, 2.0], lr=[0.1, 0.1], batch=[64, -1])
    df = pd.DataFrame({"step": [1, 2], "lr": [0.1, 0.1], "loss": [3.0, 2.0], "batch_size": [0.0, 8.0]})
    with pytest.raises(ValueError, match=r"row 0: column `batch_size`: batch size is 0"):
        lrsde.Curve.from_dataframe(df)
    with pytest.raises(ValueError, match=r"batch size is inf"):
        lrsde.Curve(step=[1], loss=[3.0], lr=[0.1], batch=[math.inf])
    with pytest.raises(ValueError, match=r"one value per row \(got 2, 2 and 2 and batch \(1\)\)"):
        lrsde.Curve(step=[1, 2], loss=[3.0, 2.0], lr=[0.1, 0.1], batch=[64])
    with pytest.raises(ValueError, match="row 1: step 1 is not after the previous batch row"):
        lrsde.Curve(step=[1, 1], loss=[3.0, math.nan], lr=[0.1, math.nan], batch=[64, 64])


def test_sim_fit_on_a_batch_ramp_equals_the_cli_fit_of_the_file(cli, tmp_path):
    rows = ramp_rows()
    path = tmp_path / "ramp.csv"
    write_csv(path, rows)
    out = tmp_path / "fit.json"
    code, _, err = cli("fit", "--curve", path, "--law", LAW, "--allow-unconverged", "-o", out)
    assert code == 0, err
    saved = json.loads(out.read_text())
    curve = lrsde.Curve.from_dataframe(pd.DataFrame(rows), name="ramp")
    with pytest.warns(UserWarning, match="one schedule shape"):
        fit = lrsde.fit([curve], law=LAW, allow_unconverged=True)
    assert list(fit.params) == saved["param_order"]
    for name, value in fit.params.items():
        want = saved["params"][name]
        assert abs(value - want) <= 1e-9 * max(1.0, abs(want)), name
    # The batch sizes matter: the same rows without them fit other parameters.
    flat_curve = lrsde.Curve(step=rows["step"], loss=rows["loss"], lr=rows["lr"])
    # Without the batch term the fit also determines fewer directions, a second warning.
    with pytest.warns(UserWarning) as caught:
        flat = lrsde.fit([flat_curve], law=LAW, allow_unconverged=True)
    assert any("one schedule shape" in str(w.message) for w in caught)
    assert any(abs(flat.params[k] - v) > 1e-6 * max(1.0, abs(v)) for k, v in fit.params.items())
