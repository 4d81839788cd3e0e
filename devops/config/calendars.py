"""The `calendars:` block: named holidays and freeze periods, shared by the cost schedules
(`cost.schedules.<name>.calendars`) and the release freezes (`environments.<env>.freeze`).

```yaml
calendars:
  india:
    timezone: Asia/Kolkata
    holidays:
      - "2026-12-25"                                   # a whole local day
      - "2026-12-31..2027-01-01"                       # whole days, inclusive
      - {name: Republic Day, from: "2027-01-26", rrule: "FREQ=YEARLY"}
    freezes:
      - {name: year end, from: "2026-12-18T18:00", to: "2027-01-04T09:00"}
      - {name: Friday afternoons, from: "2026-01-02T15:00", to: "2026-01-05T08:00", rrule: "FREQ=WEEKLY"}
    ics: {holidays: calendars/india.ics}               # iCalendar files in the repository
```

Inline entries are checked when the file is read (file, line and key in the error); iCalendar
files are read, bounded like every document, when a command first needs the calendar
(`devops config validate` reads them all). The domain's calendars come from `build`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from devops.config.base import Section
from devops.domain.calendars.model import Calendar, Entry, Kind, entry, holiday_entry, parse_moment
from devops.domain.schedule import load_zone
from devops.domain.types import Line, ProjectPath

# An iCalendar export of a year of public holidays is a few KiB; a team calendar a few hundred.
ICS_LIMIT = 1024 * 1024


def _text(value: object) -> object:
    """YAML turns unquoted dates and timestamps into objects: back to ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class EntryConfig(Section):
    """A period (`from`, `to`: dates or date-times in the calendar's zone), maybe repeated."""

    name: Line = Field("", max_length=200)
    start: str = Field(alias="from")
    end: str | None = Field(None, alias="to")
    # RFC 5545, e.g. FREQ=YEARLY or FREQ=WEEKLY;BYDAY=FR (the subset of docs/configuration.md).
    rrule: str = ""

    _moments = field_validator("start", "end", mode="before")(_text)


EntryValue = str | EntryConfig


class IcsFiles(Section):
    """iCalendar files in the repository whose events are holidays, or freezes."""

    holidays: ProjectPath | None = None
    freezes: ProjectPath | None = None


class CalendarConfig(Section):
    timezone: str = "UTC"
    description: str = ""
    holidays: tuple[EntryValue, ...] = ()
    freezes: tuple[EntryValue, ...] = ()
    ics: IcsFiles = IcsFiles()

    @field_validator("holidays", "freezes", mode="before")
    @classmethod
    def _yaml_dates(cls, value: object) -> object:
        return [_text(item) for item in value] if isinstance(value, list | tuple) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        load_zone(value)
        return value

    @model_validator(mode="after")
    def _entries_parse(self) -> CalendarConfig:
        self.entries()  # ValueError naming the entry
        return self

    def entries(self) -> list[Entry]:
        """The inline entries as the domain's (already checked by the validator)."""
        zone = load_zone(self.timezone)
        found = []
        for kind, values in (("holiday", self.holidays), ("freeze", self.freezes)):
            for index, value in enumerate(values):
                found.append(_entry(kind, index, value, zone))  # type: ignore[arg-type]
        return found


def _entry(kind: Kind, index: int, value: EntryValue, zone: object) -> Entry:
    from zoneinfo import ZoneInfo

    assert isinstance(zone, ZoneInfo)
    where = f"{kind}s[{index}]"
    if isinstance(value, str):
        try:
            found = holiday_entry(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        return Entry(found.name, kind, found.start, found.end)
    name = value.name or f"{kind} {index + 1}"
    try:
        start = parse_moment(value.start, f"{where}.from")
        end = parse_moment(value.end, f"{where}.to") if value.end is not None else None
        return entry(name, kind, start, end, zone, rrule=value.rrule)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def build(name: str, section: CalendarConfig, root: Path) -> Calendar:
    """The domain's calendar: the inline entries, and the events of its iCalendar files
    (BadInput naming the file when one cannot be read or understood)."""
    from devops.domain import documents
    from devops.domain.calendars import ics

    zone = load_zone(section.timezone)
    entries = section.entries()
    for kind, path in (("holiday", section.ics.holidays), ("freeze", section.ics.freezes)):
        if path is None:
            continue
        text = documents.read_text(root / path, path, limit=ICS_LIMIT)
        entries += ics.entries(text, path, kind, zone)  # type: ignore[arg-type]
    try:
        return Calendar.build(name, section.timezone, entries, section.description)
    except ValueError as exc:
        from devops.errors import BadInput

        raise BadInput(f"calendars.{name}: {exc}") from None
