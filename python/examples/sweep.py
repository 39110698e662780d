"""A peak-LR sweep in worker processes: lrsde objects pickle, so concurrent.futures (and
multiprocessing, Ray, Dask) ship them to workers unchanged.

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
    jobs = [(fit, lrsde.Schedule(f"wsd:peak={peak},steps=24000,warmup=2160"))
            for peak in (1e-4, 2e-4, 3e-4, 4e-4)]
    with concurrent.futures.ProcessPoolExecutor() as pool:
        for spec, loss in pool.map(final_loss, jobs):
            print(f"{loss:.4f}  {spec}")


if __name__ == "__main__":
    main()
