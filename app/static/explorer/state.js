// The view's whole state lives in the URL's query string, so a view can be shared and
// reloaded: the filters under the API's own parameter names, and the view's settings.

export const DEFAULT_SORT = "-date_start";
export const DEFAULT_INTERVAL = "month";
// Settings of the view that are not filters of the events.
export const VIEW_PARAMS = ["sort", "cursor", "interval", "event", "map"];

// {filters: {param: [values]}, view: {sort, cursor, interval, event, map}}
export function readState(filterParams) {
  const query = new URLSearchParams(location.search);
  const filters = {};
  for (const name of filterParams) {
    const values = query.getAll(name).filter((v) => v !== "");
    if (values.length) filters[name] = values;
  }
  return {
    filters,
    view: {
      sort: query.get("sort") || DEFAULT_SORT,
      cursor: query.get("cursor") || null,
      interval: query.get("interval") || DEFAULT_INTERVAL,
      event: query.get("event") || null,
      map: query.get("map") || null,
    },
  };
}

export function stateUrl(state) {
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(state.filters)) {
    for (const value of values) query.append(name, value);
  }
  const { sort, cursor, interval, event, map } = state.view;
  if (sort && sort !== DEFAULT_SORT) query.set("sort", sort);
  if (cursor) query.set("cursor", cursor);
  if (interval && interval !== DEFAULT_INTERVAL) query.set("interval", interval);
  if (event) query.set("event", event);
  if (map) query.set("map", map);
  const qs = query.toString();
  return `${location.pathname}${qs ? `?${qs}` : ""}`;
}

// A new entry in the history for what a person did (back undoes it); `replace` for what
// follows by itself (the map's position as it is dragged).
export function writeState(state, { replace = false } = {}) {
  const url = stateUrl(state);
  if (url === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", url);
}
