"""The 8-week program: `timeline` (weeks, windows, step status, next action), `report` (the
per-customer report), `stage` (the engagement pipeline's stage), `worklist` (Today),
`portfolio` (Customers), `settings` (data/program.toml), all pure; database code in
`report_store` (reports of stored customers), `step_store` (recording steps) and
`stage_store` (a stage set by hand, skipping to the final outreach)."""
