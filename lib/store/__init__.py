"""The database layer every feature shares: `db` (engines, the unit of work, migrations),
`models` (every table), `journal` (the audit log), `bulk` (fast writes), `customer_data`
(everything a report reads), `usage_summary` (window sums kept per date), `usage_history`;
`digest_models` (the digest's deliveries and the notices read, tables of `models.Base`)."""

from lib.store import digest_models as digest_models
