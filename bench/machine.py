"""The machine a benchmark ran on: CPU, cores, memory, load, software versions."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def _cpuinfo(field: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        return None
    return None


def describe(postgres_version: str | None) -> dict[str, str]:
    import pandas
    import sqlalchemy
    import streamlit

    memory = _memory_gib()
    load = os.getloadavg()
    return {
        "CPU": _cpuinfo("model name") or platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "RAM": f"{memory:.1f} GiB" if memory else "unknown",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": postgres_version or "not run",
        "pandas / SQLAlchemy / Streamlit": (
            f"{pandas.__version__} / {sqlalchemy.__version__} / {streamlit.__version__}"
        ),
        "load average at start (1/5/15 min)": " / ".join(f"{x:.1f}" for x in load),
    }


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())
