"""lrsde.simulate against `lrsde simulate` on workload W (../shared/bench/WORKLOAD.md), one
thread each, same seed; both outputs are checked equal, then the best of N alternating runs.

Run from the repository root after `cargo build --release` and `pip install ./python`:
    python python/examples/perf_simulate.py [N] [path/to/lrsde]
"""

import csv
import subprocess
import sys
import tempfile
import time

import lrsde

MODEL = "nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1"
SCHEDULE = "cosine:peak=0.5,steps=2000,warmup=20"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    exe = sys.argv[2] if len(sys.argv) > 2 else "target/release/lrsde"
    args = [exe, "simulate", "--model", MODEL, "--schedule", SCHEDULE, "--paths", "4096",
            "--method", "em", "--seed", "0", "--threads", "1"]
    cli_times, py_times = [], []
    with tempfile.NamedTemporaryFile(suffix=".csv") as out:
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(args + ["-o", out.name], check=True)
            cli_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            df = lrsde.simulate(model=MODEL, schedule=SCHEDULE, paths=4096, method="em",
                                seed=0, threads=1)
            py_times.append(time.perf_counter() - t)
        with open(out.name) as f:
            rows = list(csv.DictReader(f))
    assert [float(r["mean"]) for r in rows] == df["mean"].tolist(), "outputs differ"
    cli, py = min(cli_times), min(py_times)
    print(f"CLI (process, incl. start-up and CSV): best {cli:.3f} s of {n}")
    print(f"lrsde.simulate (incl. DataFrame):      best {py:.3f} s of {n}")
    print(f"ratio python/CLI: {py / cli:.3f}")


if __name__ == "__main__":
    main()
