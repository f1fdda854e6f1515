"""Parallel, resumable sweeps of count and dimension jobs (local processes or Dask).

* ``_jobs`` — the job types (a registry of pure functions of their parameters);
* ``_runner`` — running one job in a worker with a timeout;
* ``_sweep`` — the grid, the resumable CSV and the summary.
"""

from qexpr.sweep._jobs import JobType, job_grid, register_job_type
from qexpr.sweep._sweep import SweepSummary, read_sweep, run_sweep

__all__ = ["JobType", "SweepSummary", "job_grid", "read_sweep", "register_job_type", "run_sweep"]
