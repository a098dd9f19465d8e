"""Hand-made CSV files for import and report tests.

`AS_OF` is a fixed date; the customers below sit in every program state on it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

AS_OF = dt.date(2026, 3, 15)

CUSTOMERS = """customer_id,name,owner,plan,segment_entered_on,entry_reason,mrr_usd,extended_until,status
acme,Acme,dana,teams,2026-03-01,first_bill_projected,1200,,active
newco,Newco,dana,startup,2026-03-12,credits_rolloff,0,,active
lateco,Lateco,lee,pay-as-you-go,2026-01-01,manual,90,,active
longco,Longco,lee,scale,2026-01-05,accelerator,5000,2026-03-31,active
doneco,Doneco,priya,boost,2026-01-10,first_bill_projected,300,,active
goneco,Goneco,priya,,2026-02-01,,,,churned
"""

SUBSCRIPTIONS = """customer_id,product,billing_limit_usd
acme,product_analytics,500
acme,session_replay,
newco,product_analytics,
"""

CONFIG = """customer_id,key,value
acme,autocapture,on
acme,autocapture_actions,0
acme,person_profiles,identified_only
acme,replay_sample_rate,0.5
newco,sdk,posthog-js
"""

STEPS = """customer_id,step,status,date
acme,initial_outreach,done,2026-03-02
acme,first_meeting,scheduled,2026-03-18
doneco,initial_outreach,done,2026-01-12
doneco,first_meeting,done,2026-01-20
doneco,homework,done,2026-02-10
doneco,final_outreach,done,2026-03-01
lateco,initial_outreach,done,2026-01-03
lateco,first_meeting,scheduled,2026-01-15
"""


def usage_csv(days: int = 40) -> str:
    lines = ["customer_id,date,metric,value"]
    for offset in range(days):
        day = AS_OF - dt.timedelta(days=offset)
        lines.append(f"acme,{day.isoformat()},events,100000")
        lines.append(f"acme,{day.isoformat()},recordings,400")
    return "\n".join(lines) + "\n"


def write_all(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "customers.csv": CUSTOMERS,
        "subscriptions.csv": SUBSCRIPTIONS,
        "config.csv": CONFIG,
        "usage.csv": usage_csv(),
        "steps.csv": STEPS,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
