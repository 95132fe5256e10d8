"""Reproducible reads (issue 12), as a property: random writes, edits, merges and retractions;
after each one, the answers of a set of reads are kept with the data version they name; at the
end, each read again with ``as_of=<that version>`` must give exactly the answer kept.
On both databases."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.writer.helpers import etag_of

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}
IRAQ = {"name": "Iraq", "kind": "country", "country": "IQ"}
PLACES = [
    {"name": "Idlib", "kind": "admin1", "parent": SYRIA},
    {
        "name": "Saraqib",
        "kind": "populated_place",
        "parent": {"name": "Idlib", "kind": "admin1", "parent": SYRIA},
    },
    {"name": "Homs", "kind": "admin1", "parent": SYRIA, "latitude": 34.7, "longitude": 36.7},
    {"name": "Mosul", "kind": "populated_place", "parent": IRAQ},
]
ACTORS = [
    ("Faction A", "rebel_group"),
    ("Faction B", "rebel_group"),
    ("Army", "state_forces"),
    ("Militia C", "rebel_group"),
]
TYPES = [
    ("Battles", "Armed clash"),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    ("Protests", "Peaceful protest"),
]
# Article URLs unique across examples (they share the database).
SERIAL = itertools.count(1)
BODY = "Shelling killed people near the town, a doctor said."

# The reads kept at each version: lists with the filters that matter, a detail, stats.
READS = [
    "/v1/events?limit=100",
    "/v1/events?limit=100&include_retracted=true&include=actors",
    "/v1/events?limit=100&country=SY",
    "/v1/events?limit=100&place={place}",
    "/v1/events?limit=100&actor={actor}",
    "/v1/events?limit=100&actor={actor}&side=a",
    "/v1/events?limit=100&sources_min=2",
    "/v1/events?limit=100&outlets_min=2&disputed=true",
    "/v1/events?limit=100&event_type=Battles&date_from=2020-01-01&date_to=2020-06-30",
    "/v1/events?limit=100&sort=-fatalities_best&fields=id,fatalities_best,place_name",
    "/v1/events?limit=100&bbox=35,33,38,36",
    "/v1/stats/events?group_by=event_type",
    "/v1/stats/events?interval=month&group_by=country&include_retracted=true",
    "/v1/stats/places?level=admin1",
    "/v1/events/{event}",
]

operations = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, len(PLACES) - 1),
        st.integers(0, len(TYPES) - 1),
        st.lists(st.integers(0, len(ACTORS) - 1), max_size=2, unique=True),
        st.integers(1, 180),
        st.none() | st.integers(0, 40),
    ),
    st.tuples(
        st.just("edit"), st.integers(0, 30), st.integers(0, len(TYPES) - 1), st.integers(1, 180)
    ),
    st.tuples(st.just("source"), st.integers(0, 30), st.integers(0, 40)),
    st.tuples(st.just("retract"), st.integers(0, 30)),
    st.tuples(st.just("merge_actor"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("move_place"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("merge_place"), st.integers(0, 30), st.integers(0, 30)),
)


class Run:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.n = 0
        self.events: list[int] = []
        self.kept: list[tuple[int, str, Any]] = []

    def post_report(self, events: list[dict[str, Any]], outlet: str) -> dict[str, Any] | None:
        self.n = next(SERIAL)
        body = {
            "article": {
                "url": f"https://{outlet.lower().replace(' ', '')}.example/asof/{self.n}",
                "title": f"Report {self.n}",
                "published_date": "2020-02-01",
                "outlet": {"name": outlet},
                "body": BODY,
            },
            "quotes": [{"key": "q", "text": "Shelling killed people near the town"}],
            "events": events,
        }
        response = self.client.post("/v1/reports", json=body)
        if response.status_code == 422:
            problem = response.json()
            if problem["type"].endswith("/ambiguous-name"):
                return None  # moves made two places of one name: nothing written
            if [e["type"] for e in problem.get("errors", [])] == ["duplicate_actor"]:
                return None  # a merge made the two actors named one record: nothing written
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def pick(self, i: int) -> int | None:
        return self.events[i % len(self.events)] if self.events else None

    def ids(self, path: str) -> list[int]:
        return [row["id"] for row in self.client.get(path).json()["data"]]

    def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "create":
            _, place, kind_of, actors, day, deaths = op
            event_type, sub = TYPES[kind_of]
            event: dict[str, Any] = {
                "key": "e",
                "event_type": event_type,
                "sub_event_type": sub,
                "date_start": f"2020-{1 + (day - 1) // 30:02d}-{1 + (day - 1) % 28:02d}",
                "place": PLACES[place],
                "quotes": ["q"],
                "actors": [
                    {
                        "actor": {"name": ACTORS[a][0], "kind": ACTORS[a][1], "country": "SY"},
                        "side": "ab"[k],
                    }
                    for k, a in enumerate(actors)
                ],
            }
            if deaths is not None:
                event["fatalities"] = {"best": deaths, "quote": "q"}
            created = self.post_report([event], "Wire A")
            if created is not None:
                self.events.append(created["events"]["e"])
        elif kind == "edit" and (event_id := self.pick(op[1])) is not None:
            event_type, sub = TYPES[op[2]]
            day = op[3]
            patch = {
                "event_type": event_type,
                "sub_event_type": sub,
                "date_start": f"2020-{1 + (day - 1) // 30:02d}-{1 + (day - 1) % 28:02d}",
                "date_end": f"2020-{1 + (day - 1) // 30:02d}-{1 + (day - 1) % 28:02d}",
                "summary": f"edited {self.n}",
            }
            self.n = next(SERIAL)
            path = f"/v1/events/{event_id}"
            self.client.patch(path, json=patch, headers={"If-Match": etag_of(self.client, path)})
        elif kind == "source" and (event_id := self.pick(op[1])) is not None:
            ref = {
                "id": event_id,
                "key": "e",
                "quotes": ["q"],
                "fatalities": {"best": op[2], "quote": "q"},
            }
            self.client.post(
                "/v1/reports",
                json={
                    "article": {
                        "url": f"https://wireb.example/asof/{self.n}",
                        "title": "More",
                        "published_date": "2020-02-02",
                        "outlet": {"name": "Wire B"},
                        "body": BODY,
                    },
                    "quotes": [{"key": "q", "text": "Shelling killed people near the town"}],
                    "events": [ref],
                },
            )
            self.n = next(SERIAL)
        elif kind == "retract" and (event_id := self.pick(op[1])) is not None:
            path = f"/v1/events/{event_id}"
            self.client.delete(
                path,
                params={"reason": "duplicate"},
                headers={"If-Match": etag_of(self.client, path)},
            )
        elif kind in ("merge_actor", "merge_place", "move_place"):
            collection = "actors" if kind == "merge_actor" else "places"
            rows = self.client.get(f"/v1/{collection}?limit=100").json()["data"]
            if len(rows) >= 2:
                a, b = rows[op[1] % len(rows)]["id"], rows[op[2] % len(rows)]["id"]
                if kind == "move_place":
                    path = f"/v1/places/{a}"
                    self.client.patch(
                        path,
                        json={"parent_id": b},
                        headers={"If-Match": etag_of(self.client, path)},
                    )
                else:
                    self.client.post(f"/v1/{collection}/{a}/merge", json={"into": b})

    def keep(self) -> None:
        """Every read now, with the version its answer names."""
        place = self.client.get("/v1/places?limit=1&name=Idlib").json()["data"]
        actor = self.client.get("/v1/actors?limit=1&name=Army").json()["data"]
        fill = {
            "place": place[0]["id"] if place else 1,
            "actor": actor[0]["id"] if actor else 1,
            "event": self.events[-1] if self.events else 1,
        }
        for template in READS:
            path = template.format(**fill)
            response = self.client.get(path)
            version = int(response.headers["Data-Version"])
            # A problem's body names its request: only its status is compared.
            body = response.json() if response.status_code == 200 else None
            self.kept.append((version, path, (response.status_code, body)))

    def check(self) -> None:
        for version, path, answer in self.kept:
            joiner = "&" if "?" in path else "?"
            again = self.client.get(f"{path}{joiner}as_of={version}")
            assert again.headers["Data-Version"] == str(version), path
            body = again.json() if again.status_code == 200 else None
            assert (again.status_code, body) == answer, (version, path)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=10))
def test_a_read_as_of_a_version_is_the_answer_given_at_that_version(
    client: TestClient, ops: list[tuple[Any, ...]]
) -> None:
    run = Run(client)
    run.keep()
    for op in ops:
        run.apply(op)
        run.keep()
    run.check()
