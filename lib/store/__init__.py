"""The database layer every feature shares: `db` (engines, the unit of work, migrations),
`models` (every table), `journal` (the audit log), `bulk` (fast writes), `customer_data`
(everything a report reads), `usage_summary` (window sums kept per date), `usage_history`."""
