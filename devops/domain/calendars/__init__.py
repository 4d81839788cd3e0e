"""Calendars: named holidays and freeze periods in one time zone (`calendars:` in
pipelines/devops.yaml). The cost schedules take their holidays from them, the release freezes
their freezes (docs/cost.md, docs/release.md)."""
