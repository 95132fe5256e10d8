// The map: the bundled Natural Earth countries (no tiles needed), and on them the events'
// totals per first-level division (GET /v1/stats/places, which the rollups answer); zoomed
// in, the totals of the places in view, or, when those hold few enough events, the events
// themselves (GET /v1/events as GeoJSON), clustered, coloured by type and sized by
// fatalities. So it never draws, nor reads, a million points.

import { Map as MapLibre, NavigationControl, Popup } from "../vendor/maplibre-gl/maplibre-gl.mjs";
import { h, formatDate, formatNumber } from "./dom.js";
import { colourExpression, colourOf } from "./palette.js";

// Zoom from which the map shows places (those in view) rather than first-level divisions.
export const PLACES_FROM = 6;
// At most this many events in view are drawn one by one.
export const POINTS_UP_TO = 2000;
const POINT_FIELDS = "id,event_type,sub_event_type,date_start,date_precision,place_name,fatalities_best";
const EMPTY = { type: "FeatureCollection", features: [] };

export class EventMap {
  constructor({ container, note, api, config, onSelect, onPlace, onMove, onError }) {
    this.container = container;
    this.note = note;
    this.api = api;
    this.onSelect = onSelect; // an event's id
    this.onPlace = onPlace; // a place's id: filter to it
    this.onMove = onMove; // "zoom/lat/lon" after the map moved
    this.onError = onError;
    this.filters = {};
    this.cached = null; // the divisions' answer for the filters: panning does not change it
    this.countries = Promise.resolve();
    this.generation = 0;
    this.ready = new Promise((resolve) => (this.whenLoaded = resolve));
    this.map = new MapLibre({
      container,
      style: baseStyle(config),
      center: [38, 33],
      zoom: 2,
      minZoom: 0.5,
      maxZoom: 14,
      attributionControl: { compact: true },
      dragRotate: false,
      pitchWithRotate: false,
      cooperativeGestures: false,
      fadeDuration: 0, // no labels to fade in: drawn is drawn
    });
    this.map.addControl(new NavigationControl({ showCompass: false }), "top-right");
    this.map.touchZoomRotate.disableRotation();
    // Its style is in (not yet drawn, its worker may still be starting): sources and layers
    // can be added and given data, which the worker takes as soon as it can.
    this.map.once("style.load", () => {
      performance.mark("explorer-map-loaded");
      this.addLayers();
      this.whenLoaded();
    });
    this.map.on("moveend", () => {
      if (this.moving || !this.generation) return; // nothing to draw before the first load
      this.onMove(viewString(this.map));
      this.draw(++this.generation).catch((err) => err.name !== "AbortError" && this.onError(err));
    });
  }

  loadCountries(url) {
    this.countries = (async () => {
      const topology = await (await fetch(url)).json();
      await this.ready;
      const countries = window.topojson.feature(topology, topology.objects.countries);
      this.map.getSource("countries").setData(countries);
      performance.mark("explorer-countries");
    })();
    return this.countries;
  }

  // The event types' colours are known (palette.setTypes): the points take them.
  recolour() {
    this.ready.then(() => this.map.setPaintProperty("points", "circle-color", colourExpression()));
  }

  setView(view) {
    const [zoom, lat, lon] = (view || "").split("/").map(Number);
    if ([zoom, lat, lon].every(Number.isFinite)) {
      this.moving = true;
      this.map.jumpTo({ zoom, center: [lon, lat] });
      this.moving = false;
      return true;
    }
    return false;
  }

  // Divisions below this zoom; from it on, the places in view.
  level() {
    return this.map.getZoom() < PLACES_FROM ? "admin1" : "place";
  }

  // New filters: draw what the zoom calls for with them.
  async load(filters, { fit = false, signal } = {}) {
    this.container.dataset.state = "loading";
    const previous = this.filters;
    this.filters = filters;
    const generation = ++this.generation;
    // Asked for at once; drawn once the map and its base layer are there.
    const answer = this.aggregates(this.level(), signal);
    answer.catch(() => {}); // its failure is reported by draw(), which awaits it
    try {
      await Promise.all([this.ready, this.countries]);
      return await this.draw(generation, signal, { fit, answer });
    } catch (err) {
      this.filters = previous; // what is drawn is still the old filters'
      throw err;
    }
  }

  // The divisions' totals for the whole filter; zoomed in, the totals of the places in
  // view, or, when they hold few enough events, those events one by one.
  async draw(generation, signal, { fit = false, answer = null } = {}) {
    let level = this.level();
    const collection = await (answer || this.aggregates(level, signal));
    if (generation !== this.generation) return null;
    if (fit && level === "admin1" && collection.features.length) {
      this.fitTo(collection.features); // stays on the divisions' level
      level = this.level();
    }
    const located = collection.features.reduce((n, f) => n + f.properties.count, 0);
    const unlocated = collection.unlocated.count || 0;
    const total = located + unlocated;
    let drawn = "aggregates";
    if (level === "place" && total > 0 && total <= POINTS_UP_TO) {
      const bbox = this.filters.bbox || bboxString(this.map.getBounds());
      const points = await this.api.json(
        "/v1/events",
        { ...this.filters, format: "geojson", fields: POINT_FIELDS, bbox },
        { accept: "application/geo+json", signal },
      );
      if (generation !== this.generation) return null;
      this.map.getSource("events").setData(points);
      this.map.getSource("aggregates").setData(EMPTY);
      drawn = "events";
      this.types = [...new Set(points.features.map((f) => f.properties.event_type))].sort();
      this.container.dataset.points = String(points.features.length);
    } else {
      this.map.getSource("aggregates").setData(collection);
      this.map.getSource("events").setData(EMPTY);
      this.container.dataset.points = "0";
    }
    Object.assign(this.container.dataset, {
      total: String(total),
      unlocated: String(unlocated),
      drawn,
      level,
      bbox: level === "place" ? this.filters.bbox || bboxString(this.map.getBounds()) : "",
    });
    this.onMove(viewString(this.map)); // the view it settled on (a fit, too) is the URL's
    this.describe(drawn, level, total, unlocated);
    performance.mark("explorer-map-data");
    // Drawn means on the screen: wait for the map to finish rendering the new data.
    await Promise.race([
      new Promise((resolve) => this.map.once("idle", resolve)),
      new Promise((resolve) => setTimeout(resolve, 5000)),
    ]);
    if (generation === this.generation) this.container.dataset.state = "ready";
    return total;
  }

  // The divisions' request, as the page can make it before the map exists.
  static request(filters) {
    return ["/v1/stats/places", { ...filters, level: "admin1", metrics: "count,fatalities" }];
  }

  // GET /v1/stats/places: per division (the rollups answer it, whatever the map's size), or
  // per place within the view (the places index narrows it).
  async aggregates(level, signal) {
    const params = { ...this.filters, level, metrics: "count,fatalities" };
    if (level === "place" && !this.filters.bbox) params.bbox = bboxString(this.map.getBounds());
    const key = JSON.stringify(params);
    if (level === "admin1" && this.cached?.key === key) return this.cached.collection;
    const collection = await this.api.json("/v1/stats/places", params, { signal });
    if (level === "admin1") this.cached = { key, collection };
    return collection;
  }

  fitTo(features) {
    let [w, s, e, n] = [180, 90, -180, -90];
    for (const f of features) {
      const [lon, lat] = f.geometry.coordinates;
      [w, s, e, n] = [Math.min(w, lon), Math.min(s, lat), Math.max(e, lon), Math.max(n, lat)];
    }
    this.moving = true;
    this.map.fitBounds(
      [
        [w, s],
        [e, n],
      ],
      { padding: 40, maxZoom: PLACES_FROM - 0.5, duration: 0 },
    );
    this.moving = false;
  }

  describe(drawn, level, total, unlocated) {
    const text =
      drawn === "events"
        ? `${formatNumber(total)} events in view, each at its place, coloured by type and sized by fatalities.`
        : level === "place"
          ? `${formatNumber(total)} events in view, totalled per place; zoom in to see them one by one.`
          : `${formatNumber(total)} events, totalled per first-level division; zoom in for places.`;
    this.note.textContent = `${text}${unlocated ? ` ${formatNumber(unlocated)} of them have no coordinates (not drawn).` : ""}`;
    if (drawn === "events") {
      // The colours' key: the types drawn.
      for (const type of this.types) {
        const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
        swatch.style.backgroundColor = colourOf(type);
        this.note.append(" ", h("span", { class: "key" }, swatch, type));
      }
    }
  }

  addLayers() {
    const map = this.map;
    map.addSource("aggregates", { type: "geojson", data: EMPTY });
    map.addSource("events", {
      type: "geojson",
      data: EMPTY,
      cluster: true,
      clusterRadius: 24,
      clusterMaxZoom: 12,
      clusterProperties: { fatalities: ["+", ["coalesce", ["get", "fatalities_best"], 0]] },
    });
    map.addLayer({
      id: "aggregates",
      type: "circle",
      source: "aggregates",
      paint: {
        "circle-color": "#b2182b",
        "circle-opacity": 0.55,
        "circle-stroke-color": "#67001f",
        "circle-stroke-width": 1,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "count"]], 1, 4, 10, 16, 100, 40],
      },
    });
    map.addLayer({
      id: "clusters",
      type: "circle",
      source: "events",
      filter: ["has", "point_count"],
      paint: {
        "circle-color": "#fdfdfd",
        "circle-stroke-color": "#333",
        "circle-stroke-width": 2,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "point_count"]], 1, 8, 10, 22, 40, 40],
      },
    });
    map.addLayer({
      id: "points",
      type: "circle",
      source: "events",
      filter: ["!", ["has", "point_count"]],
      paint: {
        "circle-color": colourExpression(),
        "circle-stroke-color": "#222",
        "circle-stroke-width": 1,
        "circle-radius": [
          "interpolate",
          ["linear"],
          ["sqrt", ["coalesce", ["get", "fatalities_best"], 0]],
          0,
          5,
          5,
          12,
          20,
          26,
        ],
      },
    });
    const popup = new Popup({ closeButton: true, closeOnClick: true, maxWidth: "18rem" });
    for (const layer of ["aggregates", "clusters", "points"]) {
      map.on("mouseenter", layer, () => (map.getCanvas().style.cursor = "pointer"));
      map.on("mouseleave", layer, () => (map.getCanvas().style.cursor = ""));
    }
    map.on("click", "points", (e) => {
      const id = e.features[0].id ?? e.features[0].properties.id;
      this.onSelect(String(id));
    });
    map.on("click", "clusters", (e) => {
      const f = e.features[0];
      popup
        .setLngLat(f.geometry.coordinates)
        .setDOMContent(
          h(
            "div",
            {},
            h("strong", {}, `${formatNumber(f.properties.point_count)} events`),
            h("br"),
            `${formatNumber(f.properties.fatalities)} fatalities`,
            h("br"),
            h("button", { type: "button", class: "link", onclick: () => this.zoomInto(f) }, "Zoom in"),
          ),
        )
        .addTo(map);
    });
    map.on("click", "aggregates", (e) => {
      const p = e.features[0].properties;
      popup
        .setLngLat(e.features[0].geometry.coordinates)
        .setDOMContent(
          h(
            "div",
            {},
            h("strong", {}, p.name),
            h("br"),
            `${formatNumber(p.count)} events, ${formatNumber(p.fatalities)} fatalities`,
            h("br"),
            h(
              "button",
              { type: "button", class: "link", onclick: () => (popup.remove(), this.onPlace(String(p.place_id))) },
              `Only events in ${p.name}`,
            ),
          ),
        )
        .addTo(map);
    });
  }

  async zoomInto(feature) {
    const zoom = await this.map.getSource("events").getClusterExpansionZoom(feature.properties.cluster_id);
    this.map.easeTo({ center: feature.geometry.coordinates, zoom });
  }

  resize() {
    this.map.resize();
  }
}

function baseStyle(config) {
  // Tiled once, at zoom 2, and drawn from those tiles at any zoom: 1:110m boundaries have no
  // more detail to show, and the map then spends nothing on them as it zooms.
  const sources = { countries: { type: "geojson", data: EMPTY, maxzoom: 2, attribution: "Natural Earth" } };
  const layers = [{ id: "sea", type: "background", paint: { "background-color": "#dbe7ef" } }];
  if (config.tiles) {
    sources.tiles = {
      type: "raster",
      tiles: [config.tiles],
      tileSize: 256,
      attribution: config.tilesAttribution || "",
    };
    layers.push({ id: "tiles", type: "raster", source: "tiles" });
  } else {
    layers.push({ id: "land", type: "fill", source: "countries", paint: { "fill-color": "#f4f1ea" } });
  }
  layers.push({
    id: "borders",
    type: "line",
    source: "countries",
    paint: { "line-color": "#9a9486", "line-width": 0.6 },
  });
  return { version: 8, sources, layers };
}

function bboxString(bounds) {
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v)).toFixed(5);
  return [
    clamp(bounds.getWest(), -180, 180),
    clamp(bounds.getSouth(), -90, 90),
    clamp(bounds.getEast(), -180, 180),
    clamp(bounds.getNorth(), -90, 90),
  ].join(",");
}

function viewString(map) {
  const c = map.getCenter();
  return `${map.getZoom().toFixed(2)}/${c.lat.toFixed(4)}/${c.lng.toFixed(4)}`;
}

export function describePoint(p) {
  return `${p.event_type} · ${formatDate(p.date_start, p.date_precision)} · ${p.place_name || ""}`;
}
