"""Dates in a sentence resolved against the article's date: weekdays ("on Sunday" is the last
Sunday on or before it; "slated for Thursday" the next), "yesterday", "last night", "this
week", "last week", "last month", and dates written out ("18 April 2018", "April 18",
"19/7/2012"), each with its precision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from app.drafts.text import Sentence

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS: Final = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
# Words that put a weekday after the article's date: a meeting "slated" for Thursday.
_FUTURE = re.compile(
    r"\b(will|would|slated|scheduled|planned|expected|due|next|upcoming|tomorrow|to be held|set to)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    start_date: date
    end_date: date
    precision: str  # day, week, month, year
    start: int  # code points, the words
    end: int
    rule: str


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


_DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\.?,?(?:\s+(\d{4}))?\b"
)
_MONTH_DAY_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_RELATIVE = re.compile(
    r"\b(yesterday|today|tonight|last night|overnight|this morning|this afternoon|this evening"
    r"|this week|last week|past week|this month|last month|earlier this week|earlier this month"
    r"|(?:(?:late|early)\s+)?(?:on\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"(?:\s+(?:and|to|-)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))?)\b",
    re.IGNORECASE,
)
_MONTH_ALONE = re.compile(
    r"\b(?:in|since|during|early|late|mid-?)\s+(january|february|march|april|may|june|july|august"
    r"|september|october|november|december)(?:\s+(\d{4}))?\b",
    re.IGNORECASE,
)


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def dates(sentence: Sentence, published: date) -> list[DateMention]:
    text = sentence.text
    base = sentence.start
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def add(a: int, b: int, d0: date, d1: date, precision: str, rule: str) -> None:
        if any(a < e and s < b for s, e in taken):
            return
        taken.append((a, b))
        found.append(DateMention(d0, d1, precision, base + a, base + b, rule))

    for m in _ISO.finditer(text):
        d = _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            add(m.start(), m.end(), d, d, "day", "an ISO date")
    for m in _NUMERIC.finditer(text):
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        # Day first, as the sources in this field write it, unless that cannot be a date.
        d = _safe(y, b, a) or _safe(y, a, b)
        if d:
            add(m.start(), m.end(), d, d, "day", "a date d/m/y")
    for m in _DAY_MONTH_YEAR.finditer(text):
        month = MONTHS.get(m.group(2).lower())
        if month is None:
            continue
        year = int(m.group(3)) if m.group(3) else _year_for(month, int(m.group(1)), published)
        d = _safe(year, month, int(m.group(1)))
        if d:
            add(m.start(), m.end(), d, d, "day", "a date written out")
    for m in _MONTH_DAY_YEAR.finditer(text):
        month = MONTHS.get(m.group(1).lower())
        if month is None or (m.group(1).lower() == "may" and not m.group(3)):
            continue
        year = int(m.group(3)) if m.group(3) else _year_for(month, int(m.group(2)), published)
        d = _safe(year, month, int(m.group(2)))
        if d:
            add(m.start(), m.end(), d, d, "day", "a date written out")
    for m in _RELATIVE.finditer(text):
        words = m.group(1).lower()
        future = bool(_FUTURE.search(text[max(0, m.start() - 60) : m.start()]))
        if words in ("yesterday", "last night"):
            d = published - timedelta(days=1)
            add(m.start(), m.end(), d, d, "day", f"'{m.group(1)}': the day before the article")
        elif words in ("today", "tonight", "this morning", "this afternoon", "this evening"):
            add(
                m.start(),
                m.end(),
                published,
                published,
                "day",
                f"'{m.group(1)}': the article's day",
            )
        elif words == "overnight":
            d = published - timedelta(days=1)
            add(
                m.start(), m.end(), d, published, "day", "'overnight': the night before the article"
            )
        elif words in ("this week", "earlier this week"):
            add(
                m.start(),
                m.end(),
                _monday(published),
                published,
                "week",
                "'this week': the article's week",
            )
        elif words in ("last week", "past week"):
            monday = _monday(published) - timedelta(days=7)
            add(
                m.start(),
                m.end(),
                monday,
                monday + timedelta(days=6),
                "week",
                "'last week': the week before the article's",
            )
        elif words in ("this month", "earlier this month"):
            add(m.start(), m.end(), published.replace(day=1), published, "month", "'this month'")
        elif words == "last month":
            last = published.replace(day=1) - timedelta(days=1)
            add(
                m.start(),
                m.end(),
                last.replace(day=1),
                last,
                "month",
                "'last month': the month before the article's",
            )
        else:
            days = [w for w in re.findall(r"[a-z]+", words) if w in WEEKDAYS]
            resolved = [_weekday(published, w, future) for w in days]
            rule = (
                f"'{days[0].title()}': the next one after the article's date (a plan)"
                if future
                else f"'{days[0].title()}': the last one on or before the article's date"
            )
            add(m.start(), m.end(), min(resolved), max(resolved), "day", rule)
    for m in _MONTH_ALONE.finditer(text):
        month = MONTHS[m.group(1).lower()]
        year = (
            int(m.group(2))
            if m.group(2)
            else (published.year if month <= published.month else published.year - 1)
        )
        add(
            m.start(),
            m.end(),
            date(year, month, 1),
            _month_end(year, month),
            "month",
            "a month named",
        )
    found.sort(key=lambda d: d.start)
    return found


def _year_for(month: int, day: int, published: date) -> int:
    """A date without its year: the latest one not after the article (news reports the past)."""
    candidate = _safe(published.year, month, min(day, 28))
    if candidate is not None and candidate > published + timedelta(days=7):
        return published.year - 1
    return published.year


def _weekday(published: date, name: str, future: bool) -> date:
    target = WEEKDAYS.index(name)
    if future:
        ahead = (target - published.weekday()) % 7 or 7
        return published + timedelta(days=ahead)
    return published - timedelta(days=(published.weekday() - target) % 7)
