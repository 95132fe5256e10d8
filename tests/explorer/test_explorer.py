"""The explorer in a real Chromium, on the real app with the demo and 300 synthetic events:
it loads clean, its map, timeline and table agree with the API's own counts, the panel
highlights quotes exactly at their offsets, the URL restores a view, exports download, and
bad input, failures and hostile text are handled."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.explorer.conftest import Site, Watched, open_explorer, wait_ready
from tests.explorer.harness import running_app

# One worker runs them all: the site (uvicorn, a database of a few hundred events) and the
# browser are built once, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explorer")]


def totals(page: Any) -> dict[str, int]:
    """The number of events each view says it drew."""
    return page.evaluate(
        """() => ({
            map: Number(document.querySelector('#map').dataset.total),
            timeline: Number(document.querySelector('#timeline').dataset.total),
            table: Number(document.querySelector('#events-table').dataset.total),
        })"""
    )


def api_total(site: Site, **params: Any) -> int:
    response = site.http.get("/v1/events", params={**params, "total": "true", "limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def settle(page: Any, action: Callable[[], None]) -> None:
    """Do something that refreshes the views, and wait until they are drawn again."""
    before = int(page.evaluate("Number(document.body.dataset.generation || 0)"))
    action()
    page.wait_for_function(f"() => Number(document.body.dataset.generation || 0) > {before}")


def enter(page: Any, label: str, value: str) -> None:
    """Type into a field and leave it (its change event), as a person would."""
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.blur()


def table_ids(page: Any) -> list[int]:
    return [
        int(i)
        for i in page.eval_on_selector_all(
            "#events-table tbody tr", "rows => rows.map(r => r.dataset.id)"
        )
    ]


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_the_page_loads_clean_and_agrees_with_the_api(watched: Watched, site: Site) -> None:
    response = watched.page.goto(f"{site.base_url}/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    wait_ready(watched.page)
    page = watched.page
    assert page.evaluate("document.body.dataset.state") == "ready"
    everything = api_total(site)
    assert everything == 304  # 300 synthetic events and the demo's 4
    assert totals(page) == {"map": everything, "timeline": everything, "table": everything}
    assert len(table_ids(page)) == 50
    assert page.locator("#map canvas").count() == 1
    assert page.locator("#timeline canvas").count() == 1
    # The map drew the aggregates over the base map, and says how many events they hold.
    assert page.evaluate("document.querySelector('#map').dataset.drawn") == "aggregates"
    assert "304 events" in page.inner_text("#map-note")
    watched.assert_clean()


def test_a_filter_changes_map_timeline_and_table_consistently(watched: Watched, site: Site) -> None:
    page = open_explorer(watched, site)
    settle(page, lambda: page.get_by_label("Battles").check())
    battles = api_total(site, event_type="Battles")
    assert 0 < battles < 304
    assert totals(page) == {"map": battles, "timeline": battles, "table": battles}
    assert set(
        page.eval_on_selector_all(
            "#events-table tbody tr td:nth-of-type(1)", "c => c.map(x => x.textContent.trim())"
        )
    ) == {"Battles"}
    assert query_of(page)["event_type"] == ["Battles"]
    stats = site.http.get(
        "/v1/stats/events",
        params={"event_type": "Battles", "interval": "month", "metrics": "count"},
    ).json()
    assert sum(r["count"] for r in stats["data"]) == battles

    # A second filter: a place by its name, through the prefix search (an alias works too).
    place = page.get_by_label("Place")
    place.fill("Rural Dam")
    option = page.locator("#filter-place-options option").first
    option.wait_for(state="attached")
    label = option.get_attribute("value")
    assert label.startswith("Rif Dimashq") and label.endswith("#7")
    settle(page, lambda: enter(page, "Place", label))
    both = api_total(site, event_type="Battles", place=7)
    assert both >= 2  # the demo's two battles in East Qalamoun, at least
    assert totals(page) == {"map": both, "timeline": both, "table": both}
    assert query_of(page)["place"] == ["7"]
    watched.assert_clean()


def test_sorting_and_keyset_pages_follow_the_api(watched: Watched, site: Site) -> None:
    page = open_explorer(watched, site)
    first = site.http.get("/v1/events", params={"sort": "-fatalities_best", "limit": 50}).json()
    page.get_by_role("button", name="Fatalities").click()
    page.wait_for_function(
        "() => document.querySelector('#events-table').dataset.state === 'ready' && location.search.includes('sort=')"
    )
    assert query_of(page)["sort"] == ["-fatalities_best"]
    page.wait_for_function(
        f"() => document.querySelector('#events-table tbody tr').dataset.id === '{first['data'][0]['id']}'"
    )
    assert table_ids(page) == [e["id"] for e in first["data"]]
    second = site.http.get(
        "/v1/events",
        params={"sort": "-fatalities_best", "limit": 50, "cursor": first["next_cursor"]},
    ).json()
    page.click("#next-page")
    page.wait_for_function(
        f"() => document.querySelector('#events-table tbody tr').dataset.id === '{second['data'][0]['id']}'"
    )
    assert table_ids(page) == [e["id"] for e in second["data"]]
    page.click("#prev-page")
    page.wait_for_function(
        f"() => document.querySelector('#events-table tbody tr').dataset.id === '{first['data'][0]['id']}'"
    )
    assert page.get_attribute("th[aria-sort=descending]", "aria-sort") == "descending"
    watched.assert_clean()


def assert_quotes_marked(page: Any, site: Site, detail: dict[str, Any]) -> int:
    """Every supporting quote of the event's sources is marked in its article's body exactly
    over [start, end) in code points; the number of quotes checked."""
    checked = 0
    for source in detail["sources"]:
        body = site.http.get(f"/v1/articles/{source['article_id']}").json()["body"]
        points = list(body)  # code points, as the API's offsets count
        for quote in source["quotes"]:
            # Every mark of the quote, in order, and the code points of the body before the
            # first one, read from the page's own text.
            found = page.evaluate(
                """([article, id]) => {
                    const body = document.querySelector(`.source[data-article="${article}"] .body`);
                    const marks = [...body.querySelectorAll('mark')].filter(m => m.dataset.quotes.split(' ').includes(String(id)));
                    if (!marks.length) return null;
                    const range = document.createRange();
                    range.setStart(body, 0);
                    range.setEndBefore(marks[0]);
                    return {before: [...range.toString()].length, text: marks.map(m => m.textContent).join(''),
                            whole: [...body.textContent].length};
                }""",
                [source["article_id"], quote["id"]],
            )
            assert found is not None, quote
            assert found["before"] == quote["start"]
            assert found["text"] == "".join(points[quote["start"] : quote["end"]]) == quote["text"]
            assert found["whole"] == len(points)
            checked += 1
    return checked


def _demo_event(site: Site, summary_word: str) -> dict[str, Any]:
    found = site.http.get("/v1/events", params={"q": summary_word, "include": "sources"}).json()
    assert found["data"], summary_word
    return found["data"][0]


def test_an_event_shows_its_quotes_highlighted_exactly_at_their_offsets(
    watched: Watched, site: Site
) -> None:
    event = _demo_event(site, '"150 missiles"')
    page = open_explorer(watched, site)
    row = page.locator(f"#events-table tbody tr[data-id='{event['id']}']")
    if not row.count():  # not on the first page: open it through its URL instead
        page.goto(f"{site.base_url}/?event={event['id']}")
    else:
        row.get_by_role("button").click()
    page.wait_for_selector("#panel[data-state=ready]")
    detail = site.http.get(f"/v1/events/{event['id']}").json()
    assert page.inner_text("#panel-title") == f"{detail['event_type']} · {detail['sub_event_type']}"
    panel_text = page.inner_text("#panel")
    for ancestor in detail["place"]["ancestors"]:
        assert ancestor["name"] in panel_text
    for actor in detail["actors"]:
        assert actor["name"] in panel_text
    assert assert_quotes_marked(page, site, detail) >= 3
    # Each quote's speaker is named.
    assert "Omar al-Qalamouni" in panel_text or "unnamed military source" in panel_text
    page.get_by_role("button", name="Show the event's history").click()
    page.wait_for_selector(".revisions li")
    assert "create" in page.inner_text(".revisions")
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert "event" not in query_of(page)
    watched.assert_clean()


def test_the_panel_shows_the_claims_side_by_side_and_the_dispute(
    watched: Watched, site: Site
) -> None:
    """Issue 13's evidence in the panel: every claim of the event (a row each, with its
    value and its outlet), whether its sources disagree, and what backs it."""
    event = _demo_event(site, '"150 missiles"')
    detail = site.http.get(f"/v1/events/{event['id']}").json()
    assert detail["claims"], "the demo's events carry claims"
    page = watched.page
    page.goto(f"{site.base_url}/?event={event['id']}")
    page.wait_for_selector("#panel[data-state=ready]")
    table = page.locator("table.claims")
    assert table.is_visible()
    assert table.locator("tbody tr").count() == len(detail["claims"])
    text = table.inner_text()
    for claim in detail["claims"]:
        if claim["value"] is not None:
            assert f"{claim['value']:g}" in text or str(claim["value"]) in text
        if claim["outlet"] is not None:
            assert claim["outlet"]["name"] in text
    said = "Disputed: the sources disagree" if detail["disputed"] else "The sources agree."
    assert said in page.inner_text("#panel")
    watched.assert_clean()


def test_the_url_restores_the_view(watched: Watched, site: Site, context: Any) -> None:
    page = open_explorer(watched, site)
    settle(page, lambda: page.get_by_label("Explosions/Remote violence").check())
    settle(page, lambda: enter(page, "From", "2019-01-01"))
    page.locator("button.sort", has_text="Date").click()
    page.wait_for_function("() => location.search.includes('sort=date_start')")
    page.wait_for_selector("#events-table[data-state=ready]")
    if not page.is_disabled("#next-page"):
        page.click("#next-page")
        page.wait_for_function("() => location.search.includes('cursor=')")
        page.wait_for_selector("#events-table[data-state=ready]")
    ids = table_ids(page)
    page.locator("#events-table tbody tr").first.get_by_role("button").click()
    page.wait_for_selector("#panel[data-state=ready]")
    title = page.inner_text("#panel-title")
    shared = page.url
    query = query_of(page)
    assert query["event_type"] == ["Explosions/Remote violence"]
    assert query["date_from"] == ["2019-01-01"]
    assert "map" in query and "event" in query

    again = watch_new_page(context)
    again.page.goto(shared)
    wait_ready(again.page)
    restored = again.page
    restored.wait_for_selector("#panel[data-state=ready]")
    assert restored.is_checked("input[value='Explosions/Remote violence']")
    assert restored.input_value("#filter-date_from") == "2019-01-01"
    assert table_ids(restored) == ids
    assert restored.inner_text("#panel-title") == title
    assert query_of(restored)["map"] == query["map"]
    total = api_total(site, event_type="Explosions/Remote violence", date_from="2019-01-01")
    assert totals(restored) == {"map": total, "timeline": total, "table": total}
    # Back goes to the previous state.
    again.assert_clean()
    watched.assert_clean()


def test_a_url_with_parameters_this_api_lacks_loads_clean(watched: Watched, site: Site) -> None:
    # A link made on a server with more filters, or with a tracking parameter: the page
    # keeps the filters this API takes and asks nothing it would refuse.
    page = open_explorer(watched, site, "?event_type=Battles&utm_source=mail&no_such_filter=1")
    battles = api_total(site, event_type="Battles")
    assert totals(page) == {"map": battles, "timeline": battles, "table": battles}
    assert page.is_checked("input[value='Battles']")
    watched.assert_clean()


def watch_new_page(context: Any) -> Watched:
    from tests.explorer.conftest import watch

    page = context.new_page()
    page.set_default_timeout(20_000)
    return watch(page)


@pytest.mark.parametrize("link, fmt", [("#export-csv", "csv"), ("#export-geojson", "geojson")])
def test_an_export_downloads_the_filtered_events(
    watched: Watched, site: Site, link: str, fmt: str
) -> None:
    page = open_explorer(watched, site, "?event_type=Riots")
    riots = api_total(site, event_type="Riots")
    assert riots > 0
    with page.expect_download() as info:
        page.click(link)
    download = info.value
    content = Path(download.path()).read_text(encoding="utf-8")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(content)))
        assert len(rows) == riots
        assert {r["event_type"] for r in rows} == {"Riots"}
        assert download.suggested_filename == "events.csv"
    else:
        collection = json.loads(content)
        assert collection["type"] == "FeatureCollection"
        assert len(collection["features"]) == riots
        assert download.suggested_filename == "events.geojson"
    watched.assert_clean()


def test_a_refused_filter_shows_the_problem_beside_its_control(
    watched: Watched, site: Site
) -> None:
    page = open_explorer(watched, site)
    refused = site.http.get("/v1/events", params={"country": "XX"})
    assert refused.status_code == 422
    settle(page, lambda: enter(page, "Country code", "XX"))
    error = page.inner_text("#filter-country-error")
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in error
    assert refused.json()["errors"][0]["msg"] in error
    assert "refused" in page.inner_text("#status")
    # The map, the timeline and the table still show what they showed.
    assert totals(page)["map"] == 304 and totals(page)["table"] == 304
    assert page.evaluate("document.querySelector('#map').dataset.drawn") == "aggregates"
    assert page.locator("#events-table tbody tr").count() == 50
    watched.assert_clean(allow_status=(422,))


def test_a_503_or_a_network_error_shows_a_retry(watched: Watched, site: Site) -> None:
    page = watched.page
    problem = {
        "type": "https://conflictdb.org/problems/service-unavailable",
        "title": "Service temporarily unavailable",
        "status": 503,
        "detail": "The database is unavailable; retry shortly.",
    }
    page.route(
        "**/v1/stats/places?**",
        lambda route: route.fulfill(
            status=503,
            content_type="application/problem+json",
            body=json.dumps(problem),
            headers={"Retry-After": "1"},
        ),
    )
    page.goto(f"{site.base_url}/")
    wait_ready(page)
    assert page.evaluate("document.body.dataset.state") == "error"
    status = page.inner_text("#status")
    assert "The database is unavailable; retry shortly." in status and "503" in status
    page.unroute("**/v1/stats/places?**")
    page.route("**/v1/stats/events?**", lambda route: route.abort("connectionrefused"))
    settle(page, lambda: page.get_by_role("button", name="Retry").click())
    assert "could not be reached" in page.inner_text("#status")
    page.unroute("**/v1/stats/events?**")
    settle(page, lambda: page.get_by_role("button", name="Retry").click())
    assert page.evaluate("document.body.dataset.state") == "ready"
    assert totals(page)["timeline"] == 304
    assert watched.page_errors == [] and watched.dialogs == []


def test_an_empty_result_says_no_events_match_and_which_filters(
    watched: Watched, site: Site
) -> None:
    page = open_explorer(watched, site, "?date_from=2030-01-01&event_type=Battles")
    assert totals(page) == {"map": 0, "timeline": 0, "table": 0}
    status = page.inner_text("#status")
    assert "No events match these filters" in status
    assert "From: 2030-01-01" in status and "Event type: Battles" in status
    watched.assert_clean()


XSS = "<img src=x onerror=alert(1)>"


def test_text_from_the_data_never_runs(
    watched: Watched, site: Site, explorer_database: str
) -> None:
    from tests.conftest import make_key

    key = make_key(explorer_database, ["write"], name="xss")
    # Characters beyond the BMP before the quote: the offsets count code points, JavaScript
    # strings UTF-16 units, so a page that confused them would mark the wrong span.
    body = f"𝕊yria 🙂🙂 A witness said {XSS} and <script>alert(2)</script> were seen."
    report = {
        "article": {
            "url": "https://example.org/xss",
            "title": f"<b>{XSS}</b>",
            "published_date": "2018-04-20",
            "outlet": {"name": f"Outlet {XSS}", "kind": "local"},
            "body": body,
        },
        "quotes": [
            {"key": "q", "text": f"{XSS} and <script>alert(2)</script>", "speaker": {"name": XSS}}
        ],
        "events": [
            {
                "key": "e",
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "date_start": "2018-04-20",
                "summary": f"Clash involving {XSS}",
                "place": {"name": "Syria", "country": "SY"},
                "actors": [
                    {"actor": {"name": XSS, "kind": "rebel_group", "country": "SY"}, "side": "a"}
                ],
                "quotes": ["q"],
            }
        ],
    }
    posted = site.http.post("/v1/reports", json=report, headers={"Authorization": f"Bearer {key}"})
    assert posted.status_code == 201, posted.text
    event_id = posted.json()["events"]["e"]
    try:
        page = open_explorer(
            watched, site, f"?event={event_id}&date_from=2018-04-20&date_to=2018-04-20"
        )
        page.wait_for_selector("#panel[data-state=ready]")
        panel = page.inner_text("#panel")
        assert XSS in panel and "<script>alert(2)</script>" in panel
        assert page.locator("#panel img, #panel script, #panel b").count() == 0
        assert assert_quotes_marked(page, site, site.http.get(f"/v1/events/{event_id}").json()) == 1
        # The actor's name through the autocomplete, as text too.
        actor = page.get_by_label("Actor", exact=True)
        actor.fill("<img")
        page.locator("#filter-actor-options option").first.wait_for(state="attached")
        assert XSS in page.locator("#filter-actor-options option").first.get_attribute("value")
        assert page.locator("img").count() == 0
        watched.assert_clean()  # no dialog, no console error
    finally:
        site.http.delete(
            f"/v1/events/{event_id}",
            params={"reason": "test"},
            headers={"Authorization": f"Bearer {key}"},
        )


def test_keyboard_only(watched: Watched, site: Site) -> None:
    page = open_explorer(watched, site)
    first = page.locator("#events-table tbody tr").first
    first.get_by_role("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel[data-state=ready]")
    assert page.evaluate("document.activeElement.id") == "panel"
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert page.evaluate("document.activeElement.closest('tr')?.dataset.id") == first.get_attribute(
        "data-id"
    )
    # Every control of the filters has a label.
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('#filters input:not([type=checkbox]), #filters select')]
              .filter(el => !el.labels || !el.labels.length).map(el => el.id)"""
    )
    assert unlabelled == []
    watched.assert_clean()


def test_usable_on_a_phone(browser: Any, site: Site) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        from tests.explorer.conftest import watch

        watched = watch(context.new_page())
        page = open_explorer(watched, site)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert totals(page)["table"] == 304
        map_box = page.locator("#map").bounding_box()
        assert map_box["width"] <= 390 and map_box["height"] >= 200
        watched.assert_clean()
    finally:
        context.close()


def test_zoomed_in_the_map_draws_the_events_themselves(watched: Watched, site: Site) -> None:
    # The demo's East Qalamoun, close up: few events in view, drawn one by one.
    page = open_explorer(watched, site, "?map=9/33.77/36.72")
    page.wait_for_function("() => document.querySelector('#map').dataset.drawn === 'events'")
    assert page.evaluate("document.querySelector('#map').dataset.level") == "place"
    drawn = int(page.evaluate("document.querySelector('#map').dataset.points"))
    bounds = page.evaluate("document.querySelector('#map').dataset.bbox")
    in_view = site.http.get("/v1/events", params={"bbox": bounds, "format": "geojson"}).json()
    assert drawn == len(in_view["features"]) >= 4
    watched.assert_clean()


def test_brushing_the_timeline_sets_the_dates(watched: Watched, site: Site) -> None:
    page = open_explorer(watched, site)
    box = page.locator("#timeline .u-over").bounding_box()
    y = box["y"] + box["height"] / 2

    def drag() -> None:
        page.mouse.move(box["x"] + box["width"] * 0.55, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=5)
        page.mouse.up()

    settle(page, drag)
    query = query_of(page)
    date_from, date_to = query["date_from"][0], query["date_to"][0]
    assert date_from < date_to and date_from.endswith("-01")
    total = api_total(site, date_from=date_from, date_to=date_to)
    assert 0 < total < 304
    assert totals(page) == {"map": total, "timeline": total, "table": total}
    assert page.is_visible("#clear-dates")
    watched.assert_clean()


def test_filters_the_api_gains_appear_without_a_change_to_the_page(
    watched: Watched, site: Site
) -> None:
    """The evidence and datasets issues' filters are declared: the panel shows those the
    OpenAPI document has, with the vocabulary's or the schema's choices, and not the others
    (here the document is served without `sources_min`)."""
    page = watched.page

    def without_sources_min(route: Any) -> None:
        document = route.fetch().json()
        operation = document["paths"]["/v1/events"]["get"]
        operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "sources_min"]
        route.fulfill(json=document)

    page.route("**/openapi.json", without_sources_min)
    open_explorer(watched, site)
    assert page.get_by_label("Disputed").is_visible()
    assert page.get_by_label("Outlets at least").is_visible()
    # The schema's enum gives the choices: quotes, dataset, none.
    assert page.locator("input[name=evidence]").count() == 3
    assert page.locator("legend", has_text="Evidence").is_visible()
    assert page.get_by_label("Sources at least").count() == 0  # not in this API: not shown
    watched.assert_clean()


@pytest.fixture(scope="module")
def keyed_site(explorer_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A second server on the same data with CONFLICTDB_AUTH_READS=true, and a read key."""
    from tests.conftest import make_key

    key = make_key(explorer_database, ["read"], name="explorer-read")
    log = tmp_path_factory.mktemp("explorer-keyed") / "server.log"
    with (
        running_app(explorer_database, log, auth_reads=True) as server,
        httpx2.Client(base_url=server.base_url, timeout=30) as http,
    ):
        yield Site(server.base_url, http, key)


def test_with_auth_reads_the_page_asks_for_a_key_and_keeps_it_for_the_session(
    watched: Watched, keyed_site: Site
) -> None:
    page = watched.page
    key = keyed_site.key
    assert key is not None
    sent: list[tuple[str, str | None]] = []

    def on_request(request: Any) -> None:
        if "/v1/" in request.url:
            sent.append((request.url, request.headers.get("authorization")))

    page.on("request", on_request)
    response = page.goto(f"{keyed_site.base_url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#key-dialog[open]")
    assert sent == []  # nothing asked of the API before there is a key
    page.fill("#key-input", "cdb_00000000_not-a-key")
    page.click("#key-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#key-error').textContent.includes('not accepted')"
    )
    assert page.is_visible("#key-dialog[open]")
    page.fill("#key-input", key)
    page.click("#key-form button[type=submit]")
    wait_ready(page)
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    assert totals(page) == {"map": 304, "timeline": 304, "table": 304}
    assert key not in page.url
    assert page.evaluate("sessionStorage.getItem('conflictdb.readKey')") == key
    assert page.evaluate("localStorage.length") == 0
    after_key = [auth for url, auth in sent if "not-a-key" not in (auth or "")][-5:]
    assert after_key and all(auth == f"Bearer {key}" for auth in after_key)
    assert all(key not in url for url, _ in sent)
    # The export cannot be a plain link (it needs the header): fetched with the key, saved.
    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 304
    # A reload keeps the key for the tab's session: no question asked again.
    page.reload()
    wait_ready(page)
    assert not page.is_visible("#key-dialog[open]")
    assert page.evaluate("document.body.dataset.state") == "ready"
    watched.assert_clean(allow_status=(401,))
