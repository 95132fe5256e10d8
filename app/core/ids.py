"""Record ids in URL paths: one spelling per record, so one resource has one URL.

A plain ``int`` path parameter would take "01", "+1", "1_0" and (in lax mode) "1.0" as ids,
giving each record many URLs (and many cache entries). Ids here are canonical decimal
numbers: no sign, no leading zero, no separators (and, by the range check, at most
2**31 - 1).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BeforeValidator

_CANONICAL = re.compile(r"[1-9][0-9]*")


def _canonical(value: Any) -> Any:
    if isinstance(value, str) and not _CANONICAL.fullmatch(value):
        raise ValueError(
            "an id is a positive whole number written plainly: no sign, leading zeros, "
            "decimal point or separators"
        )
    return value


# Metadata for an id path parameter: ``Annotated[int, ids.CANONICAL, Path(ge=1, ...)]``.
CANONICAL = BeforeValidator(_canonical)
