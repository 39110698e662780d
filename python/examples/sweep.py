"""A sweep of the WSD cooldown fraction in worker processes: lrsde objects pickle, so
concurrent.futures (and multiprocessing, Ray, Dask) ship them to workers unchanged. The sweep
stays at the fitted curves' peak LR (3e-4): a fit predicts schedules at another peak far less
well, and predict warns about them (docs/accuracy.md, "Model-size sets").

Run from the repository root: python python/examples/sweep.py
"""

import concurrent.futures
import glob

import lrsde


def final_loss(job):
    fit, schedule = job
    return str(schedule), float(fit.predict(schedule)["loss"].iloc[-1])


def main():
    curves = [lrsde.read_curve(p) for p in sorted(glob.glob("fixtures/MultiPowerLaw/csv_400/*_24000.csv"))]
    fit = lrsde.fit(curves)
    jobs = [(fit, lrsde.Schedule(f"wsd:peak=3e-4,steps=24000,warmup=2160,decay={decay}"))
            for decay in (0.1, 0.2, 0.3, 0.5)]
    with concurrent.futures.ProcessPoolExecutor() as pool:
        for spec, loss in pool.map(final_loss, jobs):
            print(f"{loss:.4f}  {spec}")


if __name__ == "__main__":
    main()
