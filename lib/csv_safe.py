"""CSV downloads a spreadsheet opens as data, never as formulas (docs/rules.md,
"Downloads"): every download goes through `to_safe_csv`."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# Characters that make a spreadsheet read a cell as a formula (full-width forms too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Leading characters spreadsheets skip before looking for a formula sign.
_LEADING_SKIPPED = " \n\x0b\x0c\x00\u00a0"


def safe_cell(value: str) -> str:
    """One text cell as a spreadsheet should see it: never a formula."""
    if _PLAIN_NUMBER.match(value.strip()):
        return value
    if value[:1] in FORMULA_STARTS or value.lstrip(_LEADING_SKIPPED)[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _safe_value(value: Any) -> Any:
    return safe_cell(value) if isinstance(value, str) and value else value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are safe for spreadsheets."""
    safe = frame.copy()
    safe.columns = pd.Index([_safe_value(str(c)) for c in safe.columns])
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue
        safe.isetitem(position, column.astype(object).map(_safe_value).to_numpy(dtype=object))
    return safe


def to_safe_csv(frame: pd.DataFrame, index: bool = False) -> bytes:
    """The frame as UTF-8 CSV bytes for st.download_button, formula-safe."""
    safe = neutralise(frame.reset_index() if index else frame)
    return safe.to_csv(index=False, lineterminator="\n").encode("utf-8")
