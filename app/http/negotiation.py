"""Content negotiation: which of a route's formats answers a request (``format=`` or
``Accept``, RFC 9110 section 12.5.1). An HTTP concern: routes call it, services never see
``Accept``."""

from __future__ import annotations

from collections.abc import Mapping

from app.core.errors import ProblemError


class NotAcceptable(ProblemError):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


def negotiate(format: str | None, accept: str | None, media_types: Mapping[str, str]) -> str:
    """The response format, a key of ``media_types`` (format name -> media type, the default
    first): ``format=`` if given, else the best match of ``Accept`` (the default for none or
    ``*/*``); 406 when ``Accept`` allows none of them."""
    if format is not None:
        return format
    if not accept or not accept.strip():
        return next(iter(media_types))
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if "/" not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        main, _, sub = media.lower().partition("/")
        ranges.append((main, sub, q))
    best, best_q = None, 0.0
    for name, media_type in media_types.items():
        main, _, sub = media_type.split(";")[0].partition("/")
        quality = _quality(ranges, main, sub)
        if quality is not None and quality > best_q:  # ties go to the earlier format
            best, best_q = name, quality
    if best is None:
        names = list(dict.fromkeys(t.split(";")[0] for t in media_types.values()))
        offered = " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
        raise NotAcceptable(
            f"None of the formats is acceptable ({accept!r}): {offered}; or give format=."
        )
    return best


def _quality(ranges: list[tuple[str, str, float]], main: str, sub: str) -> float | None:
    """The quality ``Accept`` gives a media type: that of the most specific range naming it
    (RFC 9110, 12.5.1); None when no range does.

    A JSON-based type (``+json``, RFC 6839: GeoJSON's ``application/geo+json``) is JSON too:
    ``Accept: application/json``, what browsers' fetch and most clients send, takes it as
    ``application/*`` would."""
    best: tuple[int, float] | None = None
    for r_main, r_sub, q in ranges:
        if (r_main, r_sub) == (main, sub):
            specificity = 2
        elif (r_main, r_sub) == (main, "*") or (
            (r_main, r_sub) == (main, "json") and sub.endswith("+json")
        ):
            specificity = 1
        elif (r_main, r_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if best is None or (specificity, q) > best:
            best = (specificity, q)
    return None if best is None else best[1]
