"""Record ids in URL paths: one spelling per record, so one resource has one URL.

A plain ``int`` path parameter would take "01", "+1", "1_0" and (in lax mode) "1.0" as ids,
giving each record many URLs (and many cache entries). Ids here are canonical decimal
numbers: no sign, no leading zero, no separators (and, by the range check, at most
2**31 - 1).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

_CANONICAL = re.compile(r"[1-9][0-9]*")


def _canonical(value: Any) -> Any:
    if isinstance(value, str) and not _CANONICAL.fullmatch(value):
        raise ValueError(
            "an id is a positive whole number written plainly: no sign, leading zeros, "
            "decimal point or separators"
        )
    return value


CANONICAL = BeforeValidator(_canonical)
MAX_ID = 2**31 - 1
# The type of every ``{..._id}`` in every route's path (a meta-test walks the routes to hold
# to it); each route adds its description: ``Annotated[PathId, Path(description=...)]``.
PathId = Annotated[int, Field(ge=1, le=MAX_ID), CANONICAL]
