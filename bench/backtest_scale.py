"""Backtest throughput: 10,000 small Chinchilla-law fits, serially and on a Dask LocalCluster.

Simulated runs tables (6 sizes x 5 token counts, a different true Chinchilla law each, 1% log-normal noise)
are backtested with a rolling compute split of 5 cuts; one task = one Chinchilla-law fit on the runs below a
cut and its predictions of the runs above it. The same backtest runs in this process and on a Dask
LocalCluster (127.0.0.1, one single-threaded worker process per core); the script checks that both give
identical results and prints the wall times and the speed-up. Timed: the whole ``backtest()`` call (folds,
fan-out, results, leaderboard; the Dask time includes starting and closing the cluster); the tables are
validated beforehand. BLAS runs single-threaded here too, as in Dask's workers, so that the serial baseline
is not slowed by idle BLAS threads on a busy machine.

Usage: .venv/bin/python bench/backtest_scale.py [--datasets 2000] [--workers 2]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads BLAS
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from scalinglaws.backtest import ComputeSplit, LawMethod, backtest  # noqa: E402
from scalinglaws.data import validate_runs  # noqa: E402
from scalinglaws.laws import get_law  # noqa: E402

CUT_QUANTILES = (0.3, 0.4, 0.5, 0.6, 0.7)


def simulated_runs(seed: int) -> pd.DataFrame:
    """One runs table from a random Chinchilla law near Hoffmann et al.'s fit."""
    rng = np.random.default_rng(seed)
    theta = np.array([rng.uniform(1.6, 2.0), rng.uniform(300, 600), rng.uniform(1000, 3000),
                      rng.uniform(0.28, 0.40), rng.uniform(0.26, 0.38)])
    N, D = np.meshgrid(np.geomspace(5e7, 2e9, 6), np.geomspace(1e9, 1e11, 5))
    N, D = N.ravel(), D.ravel()
    loss = get_law("chinchilla").predict({"params": N, "tokens": D}, theta)
    loss = loss * np.exp(0.01 * rng.standard_normal(N.size))
    return pd.DataFrame({"run": [f"sim{seed}-{i}" for i in range(N.size)], "params": N, "tokens": D,
                         "flops": 6.0 * N * D, "loss": loss})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=2000, help="simulated tables (x 5 cuts = tasks)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    data = {f"sim{s:05d}": validate_runs(simulated_runs(s), f"sim{s:05d}") for s in range(args.datasets)}
    split = ComputeSplit(quantiles=CUT_QUANTILES)
    method = [LawMethod("chinchilla", bootstrap=0)]
    n_tasks = args.datasets * len(CUT_QUANTILES)
    print(f"{n_tasks} tasks: {args.datasets} simulated runs tables x {len(CUT_QUANTILES)} compute cuts, "
          f"one Chinchilla-law fit each")

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    start, cpu = time.perf_counter(), time.process_time()
    serial = backtest(data, split, method, executor="serial")
    t_serial, cpu_serial = time.perf_counter() - start, time.process_time() - cpu
    print(f"serial (this process):               {t_serial:8.1f} s  ({1e3 * t_serial / n_tasks:.2f} ms/task; "
          f"{cpu_serial:.1f} CPU s)")

    start, cpu = time.perf_counter(), time.process_time()
    workers_cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    clustered = backtest(data, split, method, executor="dask", workers=args.workers)
    t_dask = time.perf_counter() - start
    workers_cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - workers_cpu
    print(f"Dask LocalCluster, {args.workers} worker processes: {t_dask:8.1f} s  "
          f"({1e3 * t_dask / n_tasks:.2f} ms/task, cluster start-up included; "
          f"workers {workers_cpu:.1f} CPU s, this process {time.process_time() - cpu:.1f} CPU s)")
    print(f"cores the workers got: {workers_cpu / t_dask:.2f} of {args.workers} "
          f"(load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())})")

    pd.testing.assert_frame_equal(serial.results, clustered.results, check_exact=True)
    failed = int((serial.results["status"] != "ok").sum())
    print(f"identical results: yes ({len(serial.results)} rows, {failed} failed fits)")
    print(f"speed-up serial / Dask: {t_serial / t_dask:.2f}x on {args.workers} workers")


if __name__ == "__main__":
    main()
