// The explorer's start and its wiring: the state (in the URL), the filter panel, the map,
// the timeline, the table and the event panel, all read from the public API.

import { Api } from "./api.js";
import { $, h, clear } from "./dom.js";
import { ALWAYS, FilterPanel, apiFilterParams } from "./filters.js";
import { EventMap, PLACES_FROM } from "./map.js";
import { EventPanel } from "./panel.js";
import { setTypes } from "./palette.js";
import { VIEW_PARAMS, readState, writeState } from "./state.js";
import { EventTable } from "./table.js";
import { Timeline } from "./timeline.js";

const config = JSON.parse(document.querySelector('meta[name="conflictdb-explorer"]').content);
const api = new Api(config.root, { authReads: config.authReads });
const statusNode = $("#status");
const body = document.body;

let state = null;
let filterParams = [];
let views = null;
let refreshing = null; // the AbortController of the refresh in flight
let generation = 0; // refreshes finished, in body[data-generation]: what tests and benchmarks wait on
let eventMap = null; // built first: MapLibre's start is the longest part of the first render

start();

async function start() {
  body.dataset.state = "loading";
  eventMap ??= buildMap();
  if (config.authReads) {
    const button = $("#key-button");
    button.hidden = false;
    button.addEventListener("click", () => askKey().then(() => refresh()));
    api.onUnauthorized = () => askKey("That key was not accepted: a key with the read scope, please.").then(() => (views ? refresh() : start()));
    if (!api.key) await askKey();
  }
  const described = Promise.all([api.json("/openapi.json"), api.json("/v1/vocabulary")]);
  if (!views) prefetch();
  let openapi;
  let vocab;
  try {
    [openapi, vocab] = await described;
  } catch (err) {
    if (err.status === 401) return; // the key dialog is open; it starts again
    showStatus(failureMessage(err), () => start());
    body.dataset.state = "error";
    return;
  }
  setTypes((vocab.event_types || []).map((t) => t.name));
  eventMap.recolour();
  filterParams = Object.keys(apiFilterParams(openapi));
  state = readState(filterParams);
  const sortKeys = openapi.paths["/v1/events"].get.parameters.find((p) => p.name === "sort")?.schema.enum || [];
  views = {
    filters: new FilterPanel({ form: $("#filters"), api, openapi, vocab, onChange: changeFilters }),
    map: eventMap,
    timeline: new Timeline({
      container: $("#timeline"),
      api,
      onBrush: (from, to) => changeFilters({ ...state.filters, date_from: [from], date_to: [to] }, true),
    }),
    table: new EventTable({
      table: $("#events-table"),
      totalNode: $("#table-total"),
      pager: { first: $("#first-page"), prev: $("#prev-page"), next: $("#next-page") },
      api,
      sortKeys,
      onSort: (sort) => {
        state.view.sort = sort;
        state.view.cursor = null;
        views.table.moved("first");
        writeState(state);
        refreshTable();
      },
      onPage: (cursor, direction) => {
        views.table.moved(direction);
        state.view.cursor = cursor;
        writeState(state);
        refreshTable().then(() => $("#events-table").focus());
      },
      onSelect: selectEvent,
    }),
    panel: new EventPanel({
      panel: $("#panel"),
      body: $("#panel-body"),
      title: $("#panel-title"),
      api,
      onClose: closeEvent,
      onSelect: selectEvent,
    }),
  };
  $("#interval").addEventListener("change", (e) => {
    state.view.interval = e.target.value;
    writeState(state);
    refreshTimeline();
  });
  $("#clear-dates").addEventListener("click", () => {
    const { date_from, date_to, ...rest } = state.filters;
    changeFilters(rest, true);
  });
  for (const link of [$("#export-csv"), $("#export-geojson")]) link.addEventListener("click", download);
  window.addEventListener("popstate", () => {
    state = readState(filterParams);
    views.table.moved("first");
    applyState({ fit: false });
  });
  const restored = views.map.setView(state.view.map);
  applyState({ fit: !restored });
}

// The map and its base layer, started before the API's description and vocabulary are in;
// it draws nothing of the data before the page's first refresh.
function buildMap() {
  const map = new EventMap({
    container: $("#map"),
    note: $("#map-note"),
    api,
    config,
    onSelect: selectEvent,
    onPlace: (id) => changeFilters({ ...state.filters, place: [id] }, true),
    onMove: (view) => {
      state.view.map = view;
      writeState(state, { replace: true });
    },
    onError: (err) => showStatus(failureMessage(err), () => refresh()),
  });
  map.loadCountries(`${config.root}/static/vendor/world-atlas/countries-110m.json`);
  return map;
}

// The three views' first requests, from the URL alone, while the API's description and
// vocabulary (which the page needs to build itself) are on their way. Only when the URL's
// filters are all ones this API surely takes: any other (a filter of another server's API, a
// tracking parameter) could be refused, and the views will leave out what is not a filter.
function prefetch() {
  const names = [...new URLSearchParams(location.search).keys()].filter((k) => !VIEW_PARAMS.includes(k));
  if (!names.every((name) => ALWAYS.includes(name))) return;
  const early = readState(names);
  const [zoom] = (early.view.map || "").split("/").map(Number);
  if (!(zoom >= PLACES_FROM)) api.prefetch(...EventMap.request(early.filters));
  api.prefetch(...Timeline.request(early.filters, early.view.interval));
  api.prefetch(...EventTable.request(early.filters, early.view));
}

// Draw everything the state says: the filters, the views, the open event.
function applyState({ fit }) {
  views.filters.render(state);
  $("#interval").value = state.view.interval;
  if (state.view.map) views.map.setView(state.view.map);
  if (state.view.event) openEvent(state.view.event);
  else views.panel.hide();
  refresh({ fit });
}

function changeFilters(filters, rerender = false) {
  state.filters = filters;
  state.view.cursor = null;
  views.table.moved("first");
  writeState(state);
  if (rerender) views.filters.render(state);
  refresh();
}

// Read the three views again for the filters; each keeps what it showed until its new
// answer is there, so a refusal never blanks them.
async function refresh({ fit = false } = {}) {
  refreshing?.abort();
  const controller = new AbortController();
  refreshing = controller;
  body.dataset.state = "loading";
  views.filters.clearErrors();
  clearStatus();
  updateLinks();
  const filters = state.filters;
  // Each view's drawing is marked on the page's clock (performance marks), for the benchmark.
  const marked = (name, loading) => loading.then((value) => (performance.mark(`explorer-${name}`), value));
  const results = await Promise.allSettled([
    marked("map", views.map.load(filters, { fit, signal: controller.signal })),
    marked("timeline", views.timeline.load(filters, state.view.interval, controller.signal)),
    marked("table", views.table.load(filters, state.view, controller.signal)),
  ]);
  api.early.clear(); // the first refresh took what was asked for early; later ones ask anew
  if (controller.signal.aborted) return;
  const failure = results.find((r) => r.status === "rejected" && r.reason.name !== "AbortError");
  if (failure) {
    failed(failure.reason);
  } else {
    const total = results[2].value;
    body.dataset.total = String(total);
    if (total === 0) {
      const described = await views.filters.describe(filters);
      if (controller.signal.aborted) return;
      showStatus(described ? `No events match these filters: ${described}.` : "No events yet.");
    }
    body.dataset.state = "ready";
    performance.mark("explorer-ready");
  }
  body.dataset.generation = String(++generation);
}

async function refreshTable() {
  try {
    clearStatus();
    await views.table.load(state.filters, state.view);
  } catch (err) {
    failed(err);
  }
}

async function refreshTimeline() {
  try {
    await views.timeline.load(state.filters, state.view.interval);
  } catch (err) {
    failed(err);
  }
}

function failed(err) {
  body.dataset.state = "error";
  if (err.status === 401) return; // the key dialog asks again
  if (err.status === 422 || err.status === 400) {
    views.filters.showErrors(err);
    showStatus(`The API refused these filters: ${err.message}`);
    return;
  }
  showStatus(failureMessage(err), () => refresh());
}

function failureMessage(err) {
  if (err.retryable) {
    const why = err.status ? `${err.message} (HTTP ${err.status})` : err.message;
    return `Could not load the events: ${why}`;
  }
  return `Something went wrong: ${err.message}`;
}

function showStatus(message, retry) {
  clear(statusNode).append(h("p", {}, message));
  if (retry) statusNode.append(h("button", { type: "button", onclick: retry }, "Retry"));
  statusNode.hidden = false;
}

function clearStatus() {
  clear(statusNode);
  statusNode.hidden = true;
}

function updateLinks() {
  $("#export-csv").href = api.url("/v1/events", { ...state.filters, format: "csv" });
  $("#export-geojson").href = api.url("/v1/events", { ...state.filters, format: "geojson" });
  $("#clear-dates").hidden = !(state.filters.date_from || state.filters.date_to);
}

// The exports are the API's streams; a link does it, unless the server wants a key, which a
// link cannot send: then the file is fetched with it and saved from memory.
async function download(e) {
  if (!api.key) return;
  e.preventDefault();
  const link = e.currentTarget;
  try {
    const response = await api.fetch("/v1/events", new URL(link.href).searchParams, { accept: "*/*" });
    const url = URL.createObjectURL(await response.blob());
    const a = h("a", { href: url, download: link.getAttribute("download") });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    showStatus(`The export failed: ${err.message}`);
  }
}

function selectEvent(id) {
  state.view.event = id;
  writeState(state);
  openEvent(id);
}

function openEvent(id) {
  views.table.select(id);
  views.panel.show(id);
}

function closeEvent() {
  const id = state.view.event;
  state.view.event = null;
  writeState(state);
  views.panel.hide();
  views.table.select(null);
  document.querySelector(`#events-table tr[data-id="${CSS.escape(id || "")}"] button`)?.focus();
}

// The read key, kept for this tab only (sessionStorage), never in the URL.
function askKey(message = "") {
  const dialog = $("#key-dialog");
  const form = $("#key-form");
  $("#key-error").textContent = message;
  return new Promise((resolve) => {
    form.onsubmit = (e) => {
      e.preventDefault();
      const key = $("#key-input").value.trim();
      if (!key) return;
      api.key = key;
      $("#key-input").value = "";
      dialog.close();
      resolve();
    };
    if (!dialog.open) dialog.showModal();
  });
}
