"""Normalised forms of names and URLs, computed in Python so SQLite and PostgreSQL match alike.

Names: case, accents, apostrophes, hyphens, spacing and the Arabic article's transliteration
variants (al-/a-/el-/ad-/ash-/...) are folded, so "Jaish Tahrir a-Sham" and
"Jaish Tahrir al-Sham" share one key. URLs: scheme and host lower-cased, default ports,
fragments and tracking parameters dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The Arabic definite article as transliterated before sun and moon letters.
_ARTICLES = frozenset(
    {
        "al",
        "el",
        "il",
        "ul",
        "a",
        "e",
        "ad",
        "adh",
        "an",
        "ar",
        "as",
        "ash",
        "at",
        "ath",
        "az",
        "ed",
        "en",
        "er",
        "es",
        "esh",
        "et",
        "ez",
    }
)
# Free-standing forms that are unambiguous enough to drop even without a hyphen ("Al Bab").
_STANDALONE_ARTICLES = frozenset({"al", "el"})
_APOSTROPHES = "'’‘`´ʿʾʼʻ′"
_HYPHENS = "-‐‑‒–—―_"
_WORD_SPLIT = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """A matching key for an actor, place or outlet name.

    Cached: reports and imports name the same actors and places over and over."""
    # Compatibility-decompose first ("𝕊" -> "S"), then fold case, so the result is lower case.
    text = unicodedata.normalize("NFKD", name).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for ch in _APOSTROPHES:
        text = text.replace(ch, "")
    tokens: list[str] = []
    for word in _WORD_SPLIT.split(text.strip()):
        # Split hyphenated words, remembering which parts were glued to a following part.
        parts = [p for p in re.split(f"[{re.escape(_HYPHENS)}]", word)]
        for i, part in enumerate(parts):
            part = re.sub(r"[^\w]", "", part)
            if not part:
                continue
            glued = i < len(parts) - 1 and any(parts[i + 1 :])
            if glued and part in _ARTICLES:
                continue
            tokens.append(part)
    # "Al Bab" / "El Mina": a free-standing article before another word.
    tokens = [
        t for i, t in enumerate(tokens) if not (t in _STANDALONE_ARTICLES and i < len(tokens) - 1)
    ]
    return " ".join(tokens)


def normalize_prefix(prefix: str) -> str:
    """The matching key of the beginning of a name as typed so far (an autocomplete's input),
    to match the start of ``normalize_name`` keys.

    Folded as names are, with the ends of words kept: "Jaish Tahrir a-" (the article and its
    hyphen typed, the word not yet) is "jaish tahrir " and finds "Jaish Tahrir a-Sham", whose
    key drops the article; a prefix that ends at a space or hyphen ends with a space, so
    "Jabal " does not find "Jabalah". Empty when nothing but an article (or nothing at all)
    has been typed: that prefix matches every name.
    """
    key = normalize_name(prefix)
    ends_word = bool(prefix) and (prefix[-1].isspace() or prefix[-1] in _HYPHENS)
    if not ends_word or not key:
        return key
    tokens = key.split(" ")
    last_glued = prefix.rstrip()[-1:] in tuple(_HYPHENS)
    if (last_glued and tokens[-1] in _ARTICLES) or tokens[-1] in _STANDALONE_ARTICLES:
        tokens.pop()
    return " ".join(tokens) + " " if tokens else ""


_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "_ga",
        "yclid",
        "spm",
    }
)


def normalize_url(url: str) -> str:
    """The identity of an article URL: same page, same key."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    if scheme == "http":
        # The same article is served over both; treat them as one.
        scheme = "https"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    query.sort()
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def url_domain(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    return (host[4:] if host.startswith("www.") else host) or None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# normalize_name, remembered: bulk imports name the same places, actors and outlets thousands
# of times, and their resolvers normalise with the same cache as the writer that stores them.
normalized = lru_cache(maxsize=1 << 17)(normalize_name)
