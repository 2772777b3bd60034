"""What every page handler uses: htmx awareness and redirects that work with and without it.

Every page works without JavaScript (forms post and answer 303); with htmx, forms swap in place and
a redirect is an HX-Redirect. Fragments are named blocks of the page's template.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

HX_VARY = {"Vary": "HX-Request"}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def go(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    """Send the browser to ``path``: a 303, or for htmx an HX-Redirect."""
    if is_htmx(request):
        return Response(content=None, status_code=204, headers={"HX-Redirect": path, **HX_VARY})
    return Redirect(path=path, status_code=303, headers=HX_VARY)


@lru_cache(maxsize=4096)  # a list shows few distinct days, and strftime is slow next to a look-up
def day_text(day: date) -> str:
    return day.strftime("%-d %b %Y")  # 7 Dec 2026
