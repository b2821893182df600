"""The optional [management] table of eufunds.toml: who gets management's monthly report,
and on which day of the month."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eufunds.config_checks import ConfigError, check_email, check_table

ENTRY = "management"
# The last day every month has: a report day past it would skip February.
LAST_REPORT_DAY = 28


@dataclass(frozen=True)
class ManagementSettings:
    """The monthly report mail: the previous month's statistics go to ``recipients`` on
    ``report_day`` of each month (or the first run after it); no recipients, no mail."""

    recipients: tuple[str, ...] = ()
    report_day: int = 1


def parse_management(path: Path, table: dict) -> ManagementSettings:
    """The [management] table checked: addresses, and a day from 1 to 28."""
    checked = check_table(
        path,
        ENTRY,
        table,
        {
            "recipients": ((list,), []),
            "report_day": ((int,), 1, (1, LAST_REPORT_DAY)),
        },
    )
    for address in checked["recipients"]:
        if not isinstance(address, str):
            raise ConfigError(path, ENTRY, "'recipients' must be a list of strings")
        check_email(path, ENTRY, "recipients", address)
    return ManagementSettings(tuple(checked["recipients"]), checked["report_day"])
