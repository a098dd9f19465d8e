"""The 8-week program: `timeline` (weeks, windows, step status, next action), `report` (the
per-customer report), `worklist` (Today), `portfolio` (Customers), all pure; database code
in `report_store` (reports of stored customers) and `step_store` (recording steps)."""
