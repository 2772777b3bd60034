"""Countries (ISO 3166-1 alpha-2) and time zones (the IANA database)."""

from __future__ import annotations

import zoneinfo
from functools import cache

import pycountry

# ISO 3166-1 alpha-2 codes, as pycountry keeps them.
COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def time_zones() -> frozenset[str]:
    """IANA zone names; not the host's aliases ('localtime') or the database's own folders."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in {"localtime", "posixrules", "Factory"} and not name.startswith(("posix/", "right/"))
    )


def is_time_zone(name: str) -> bool:
    return name in time_zones()
