"""Error pages: what a browser sees when a page cannot be shown (not found, forbidden, refused, or
our fault), instead of the JSON problem document the API answers. The core's error handlers call
the renderer the web faces leave in the app's state (``app.kit.errors.ERROR_PAGE``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment

AREAS = {"console": "Operator console", "portal": "Member portal"}


def error_page(environment: Environment) -> Callable[[dict[str, Any]], str]:
    """Renders a problem document as ``shared/error.html``, with a way back to its area's first page."""
    template = environment.get_template("shared/error.html")

    def render(problem: dict[str, Any]) -> str:
        area = str(problem["instance"]).strip("/").partition("/")[0]
        home = f"/{area}/" if area in AREAS else "/"
        return template.render(problem=problem, home=home, area_name=AREAS.get(area, "FlexLedger"))

    return render
