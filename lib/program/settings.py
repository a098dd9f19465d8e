"""The team's program settings, from data/program.toml (`[program]`): when Today suggests
skipping to the final outreach, and the response-rate benchmark Outcomes shows."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lib import settings
from lib.errors import UserError

PROGRAM_FILE = settings.DATA_DIR / "program.toml"
DEFAULT_NO_REPLY_DAYS = 14
DEFAULT_RESPONSE_BENCHMARK = 0.75


@dataclass(frozen=True)
class ProgramSettings:
    no_reply_days: int = DEFAULT_NO_REPLY_DAYS
    response_rate_benchmark: float = DEFAULT_RESPONSE_BENCHMARK


def parse(text: str, name: str = "program.toml") -> ProgramSettings:
    """The [program] table; a missing key keeps its default, a bad value is refused."""
    try:
        table = tomllib.loads(text).get("program", {})
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{name}: not valid TOML ({error})") from None
    days = table.get("no_reply_days", DEFAULT_NO_REPLY_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise UserError(
            f"{name}: [program] no_reply_days = {days!r}: a whole number of days, 1-365"
        )
    benchmark = table.get("response_rate_benchmark", DEFAULT_RESPONSE_BENCHMARK)
    if (
        not isinstance(benchmark, int | float)
        or isinstance(benchmark, bool)
        or not 0 <= benchmark <= 1
    ):
        raise UserError(
            f"{name}: [program] response_rate_benchmark = {benchmark!r}: a fraction from 0 to 1"
        )
    return ProgramSettings(no_reply_days=days, response_rate_benchmark=float(benchmark))


@cache
def load(path: Path = PROGRAM_FILE) -> ProgramSettings:
    """The settings file's values (defaults when the file is absent)."""
    if not path.exists():
        return ProgramSettings()
    return parse(path.read_text(encoding="utf-8"), path.name)
