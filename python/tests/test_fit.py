"""fit / predict / rank / validate against `lrsde fit`, `predict`, `rank` on the bundled curves."""

import json
import math

import numpy as np
import pytest

import lrsde
from conftest import MPL, read_csv_exact

CURVES = [MPL / "constant_24000.csv", MPL / "cosine_24000.csv"]
# The `mpl` fit compared with the CLI's: its fit of constant + WSD takes at most 37 iterations
# per start, where constant + cosine needs 519 (1 s instead of 11 s in release).
MPL_FIT_CURVES = [MPL / "constant_24000.csv", MPL / "wsd_20000_24000.csv"]
WSD = "wsd:peak=3e-4,steps=24000,warmup=2160"
COSINE = "cosine:peak=3e-4,steps=24000,warmup=2160"


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


@pytest.fixture(scope="module")
def both(cli, tmp_path_factory):
    """The same fit made by the CLI (fit.json) and by the package."""
    d = tmp_path_factory.mktemp("fit")
    path = d / "fit.json"
    args = [a for c in MPL_FIT_CURVES for a in ("--curve", c)]
    code, _, err = cli("fit", *args, "--law", "mpl", "-o", path)
    assert code == 0, err
    with pytest.warns(UserWarning):
        fit = lrsde.fit([lrsde.read_curve(c) for c in MPL_FIT_CURVES], law="mpl")
    return path, fit


def test_params_match_the_cli(both):
    path, fit = both
    saved = json.loads(path.read_text())
    assert fit.law == saved["law"] == "mpl"
    assert list(fit.params) == saved["param_order"]
    for name, value in fit.params.items():
        assert close(value, saved["params"][name]), name
    assert close(fit.report["cost"], saved["report"]["cost"])
    assert fit.converged


def test_predict_matches_the_cli(both, cli, tmp_path):
    path, fit = both
    out = tmp_path / "pred.csv"
    # The first 3000 updates: the prediction at a step does not depend on later updates, and
    # the debug CLI's `mpl` band over all 24,000 takes minutes.
    code, _, err = cli("predict", "--fit", path, "--schedule", WSD, "--steps", 3000, "-o", out)
    assert code == 0, err
    expected = read_csv_exact(out.read_text())
    df = fit.predict(lrsde.Schedule(WSD), steps=3000)
    assert len(df) == 3000
    assert list(df.columns) == list(expected) == ["step", "lr", "loss", "loss_lo", "loss_hi"]
    assert df["step"].tolist() == [int(s) for s in expected["step"]]
    assert df["lr"].tolist() == [float(v) for v in expected["lr"]]
    for col in ("loss", "loss_lo", "loss_hi"):
        got, want = df[col].to_numpy(), np.array([float(v) for v in expected[col]])
        assert np.all(np.abs(got - want) <= 1e-9 * np.maximum(1.0, np.abs(want))), col


def test_rank_matches_the_cli(both, cli):
    path, fit = both
    short = [s.replace("steps=24000,warmup=2160", "steps=4000,warmup=500") for s in (WSD, COSINE)]
    code, out, err = cli("rank", "--fit", path, "--schedule", short[0], "--schedule", short[1],
                         "--format", "csv")
    assert code == 0, err
    expected = read_csv_exact(out)
    df = fit.rank([short[0], lrsde.Schedule(short[1])])
    assert list(df.columns) == list(expected)
    assert df["schedule"].tolist() == expected["schedule"]
    assert df["rank"].tolist() == [int(v) for v in expected["rank"]]
    assert [str(v).lower() for v in df["significant"]] == expected["significant"]
    assert [None if v is None else str(v) for v in df["diverged"]] == [
        v or None for v in expected["diverged"]]
    for col in ("final_loss", "loss_lo", "loss_hi", "gap", "p_best"):
        for got, want in zip(df[col], expected[col]):
            assert close(got, float(want)), col


def test_save_load_round_trip_and_the_cli_reads_it(both, cli, tmp_path):
    path, fit = both
    mine = tmp_path / "py-fit.json"
    fit.save(mine)
    assert lrsde.load_fit(mine).to_json() == fit.to_json()
    loaded = lrsde.load_fit(path)
    assert loaded.params == pytest.approx(fit.params, rel=1e-9)
    code, out, err = cli("predict", "--fit", mine, "--schedule", WSD, "--steps", 100)
    assert code == 0, err
    expected = read_csv_exact(out)
    df = fit.predict(WSD, steps=100)
    assert df["loss"].tolist() == [float(v) for v in expected["loss"]]


def test_validate_is_leave_one_out():
    # The power law: each refit here sees one schedule shape and tries every start.
    fit = lrsde.fit([lrsde.read_curve(c) for c in CURVES], law="power")
    table = fit.validate()
    assert table["curve"].tolist() == ["constant_24000", "cosine_24000"]
    # Oracle: holding out the cosine curve is a fit on the constant curve alone, whose
    # prediction of the cosine curve is compared with the observed losses directly.
    with pytest.warns(UserWarning):
        alone = lrsde.fit([lrsde.read_curve(CURVES[0])], law="power")
    cos = lrsde.read_curve(CURVES[1])
    pred = alone.predict(lrsde.Schedule.from_array(cos.lrs))["loss"].to_numpy()
    mae = np.mean(np.abs(pred[cos.steps - 1] - cos.losses))
    assert close(table["mae"].iloc[1], mae, 1e-9)



def test_validate_needs_curves_after_load(both):
    with pytest.raises(ValueError, match="pass curves"):
        lrsde.load_fit(both[0]).validate()


def test_default_law_is_the_libraries():
    # `lrsde fit` without --law chooses by held-out evidence (`auto`); lrsde.fit follows it.
    assert lrsde.DEFAULT_LAW == "auto"


def test_steplaw_closed_form():
    out = lrsde.steplaw(params=1e9, tokens=1e11)
    assert close(out["peak_lr"], 1.79 * 1e9 ** -0.713 * 1e11 ** 0.307)
    assert close(out["batch_tokens"], 0.58 * 1e11 ** 0.571)
    with pytest.raises(ValueError, match="positive and finite"):
        lrsde.steplaw(params=-1, tokens=1e11)


def test_fit_errors(cli, tmp_path):
    code, _, err = cli("fit", "--curve", CURVES[0], "--law", "nope", "-o", tmp_path / "f.json")
    assert code == 2
    with pytest.raises(ValueError) as e:
        lrsde.fit(CURVES, law="nope")
    assert err.strip() == "error: --" + str(e.value)
    with pytest.raises(FileNotFoundError):
        lrsde.fit([tmp_path / "missing.csv"])
    with pytest.raises(FileNotFoundError):
        lrsde.load_fit(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="bad.json"):
        lrsde.load_fit(bad)


PRIOR = {
    "law": "momentum",
    "source": "test",
    "terms": [{"param": "C", "mean_ln": -8.0, "sd_ln": 0.01}],
}


def test_prior_as_dict_or_file_matches_the_cli(cli, tmp_path):
    """`fit(prior=...)` applies and records the prior as `lrsde fit --prior` does: the
    constant run alone leaves C to the prior (within 2 sd of its mean)."""
    prior_path = tmp_path / "prior.json"
    prior_path.write_text(json.dumps(PRIOR))
    out = tmp_path / "fit.json"
    code, _, err = cli(
        "fit", "--curve", CURVES[0], "--law", "momentum", "--prior", prior_path, "-o", out
    )
    assert code == 0, err
    saved = json.loads(out.read_text())
    assert saved["prior"] == PRIOR
    assert abs(math.log(saved["params"]["C"]) + 8.0) < 0.02
    for prior in (PRIOR, str(prior_path)):
        with pytest.warns(UserWarning):
            fit = lrsde.fit([CURVES[0]], law="momentum", prior=prior)
        assert close(fit.params["C"], saved["params"]["C"])
        fit.save(tmp_path / "py.json")
        assert json.loads((tmp_path / "py.json").read_text())["prior"] == PRIOR


def test_a_prior_for_another_law_or_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="the prior is for law `momentum`, not `sde`"):
        lrsde.fit([CURVES[0]], law="sde", prior=PRIOR)
    bad = dict(PRIOR, terms=[{"param": "D", "mean_ln": -8.0, "sd_ln": 0.01}])
    with pytest.raises(ValueError, match="no parameter `D`"):
        lrsde.fit([CURVES[0]], law="momentum", prior=bad)
    with pytest.raises(ValueError, match="missing field `source`"):
        lrsde.fit([CURVES[0]], law="momentum", prior={"law": "momentum", "terms": []})


def test_predict_warns_as_the_cli_about_a_peak_no_fit_curve_ran_at(both, cli, tmp_path):
    path, fit = both
    half = "wsd:peak=1.5e-4,steps=24000,warmup=2160"
    code, _, err = cli("predict", "--fit", path, "--schedule", half, "--steps", 100,
                       "-o", tmp_path / "half.csv")
    assert code == 0, err
    assert "peak LR 1.500e-4 is not the peak of any fit curve (3.000e-4)" in err
    with pytest.warns(UserWarning, match=r"not the peak of any fit curve \(3\.000e-4\)"):
        fit.predict(half, steps=100)


def test_predict_follows_a_batch_schedule_as_the_cli(cli, tmp_path):
    # A curve with a batch ramp (64, then 128), fitted by a `sim:` law, which keeps the ramp's
    # largest batch as the reference of its noise.
    rows = ["step,lr,loss,batch_size"]
    for s in range(1, 401):
        loss = f"{2.0 + 1.0 / math.sqrt(s) + (0.02 if s <= 200 else 0.01):.9f}" if s % 20 == 0 else ""
        rows.append(f"{s},0.001,{loss},{64 if s <= 200 else 128}")
    curve = tmp_path / "ramp.csv"
    curve.write_text("\n".join(rows) + "\n")
    path = tmp_path / "fit.json"
    code, _, err = cli(
        "fit", "--curve", curve, "--law", "sim:model=nqm,dim=4", "--allow-unconverged", "-o", path
    )
    assert code == 0, err
    fit = lrsde.load_fit(path)
    ramp = "constant:peak=128,steps=400,warmup=100"
    out = tmp_path / "pred.csv"
    code, _, err = cli(
        "predict", "--fit", path, "--schedule", "constant:peak=1e-3,steps=400",
        "--batch-schedule", ramp, "-o", out,
    )
    assert code == 0, err
    expected = read_csv_exact(out.read_text())
    df = fit.predict("constant:peak=1e-3,steps=400", batch_schedule=ramp)
    got, want = df["loss"].to_numpy(), np.array([float(v) for v in expected["loss"]])
    assert np.all(np.abs(got - want) <= 1e-9 * np.abs(want))
    # At the reference batch throughout: the prediction without a schedule, bit for bit; a
    # smaller batch is noisier.
    plain = fit.predict("constant:peak=1e-3,steps=400")
    flat = fit.predict("constant:peak=1e-3,steps=400", batch_schedule=np.full(400, 128.0))
    assert flat["loss"].tolist() == plain["loss"].tolist()
    assert df["loss"].iloc[50] > plain["loss"].iloc[50]
    ranked = fit.rank(["constant:peak=1e-3,steps=400"], batch_schedule=ramp)
    assert len(ranked) == 1
    assert close(ranked["final_loss"].iloc[0], df["loss"].iloc[-1], 1e-12)


def test_predict_refuses_a_batch_ramp_for_a_law_without_a_batch_term(both):
    _, fit = both
    with pytest.raises(ValueError, match="law `mpl` has no batch-size term"):
        fit.predict(WSD, steps=100, batch_schedule="constant:peak=64,steps=100,warmup=50")


def test_weigh_curves_matches_the_cli(cli, tmp_path):
    """`fit(weigh="curves")` weighs each curve the same as `lrsde fit --weigh curves` does
    (wsdcon_9 has 109 points beside constant_24000's 171), and records it in the fit."""
    curves = [MPL / "constant_24000.csv", MPL / "wsdcon_9.csv"]
    out = tmp_path / "fit.json"
    args = [a for c in curves for a in ("--curve", c)]
    code, _, err = cli("fit", *args, "--law", "momentum", "--weigh", "curves", "-o", out)
    assert code == 0, err
    saved = json.loads(out.read_text())
    assert saved["report"]["curve_weighting"] == "curves"
    # wsdcon_9's logged LR drop is read as a ramp, with a warning (test_curves_and_pickle.py).
    with pytest.warns(UserWarning, match="logged LR jumps"):
        fit = lrsde.fit(curves, law="momentum", weigh="curves")
    assert fit.report["curve_weighting"] == "curves"
    for name, value in fit.params.items():
        assert close(value, saved["params"][name]), name
    with pytest.warns(UserWarning, match="logged LR jumps"):
        by_points = lrsde.fit(curves, law="momentum")
    assert by_points.report["curve_weighting"] == "points"
    assert any(not close(by_points.params[n], v, 1e-6) for n, v in fit.params.items())
    code, _, err = cli("fit", *args, "--weigh", "time", "-o", tmp_path / "bad.json")
    assert code == 2 and "--weigh" in err and "points, curves" in err
    with pytest.raises(ValueError, match="weigh: `time` is not one of points, curves"):
        lrsde.fit(curves, weigh="time")
