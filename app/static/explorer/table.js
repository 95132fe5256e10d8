// The table: one keyset page of events (GET /v1/events), sortable by the API's sort keys,
// with next and previous pages through its cursors.

import { h, clear, formatDate, formatNumber } from "./dom.js";
import { colourOf } from "./palette.js";

export const PAGE_SIZE = 50;
const FIELDS = "id,date_start,date_end,date_precision,event_type,sub_event_type,place_name,country,fatalities_best";

// Columns; `sort` names the API's sort key when the column can be sorted on.
const COLUMNS = [
  { label: "Date", sort: "date_start", cell: (e) => dates(e) },
  { label: "Type", cell: (e) => typeCell(e) },
  { label: "Sub-type", cell: (e) => e.sub_event_type || "" },
  { label: "Place", cell: (e) => [e.place_name || "", e.country ? ` (${e.country})` : ""] },
  { label: "Fatalities", sort: "fatalities_best", numeric: true, cell: (e) => formatNumber(e.fatalities_best) },
  { label: "Id", sort: "id", numeric: true, cell: (e) => String(e.id) },
];

export class EventTable {
  constructor({ table, totalNode, pager, api, sortKeys, onSort, onPage, onSelect }) {
    this.table = table;
    this.totalNode = totalNode;
    this.pager = pager; // {first, prev, next}
    this.api = api;
    this.sortKeys = new Set(sortKeys);
    this.onSort = onSort; // (sort)
    this.onPage = onPage; // (cursor, direction)
    this.onSelect = onSelect; // (event id)
    this.previous = []; // cursors of the pages before this one, this session
    this.next = null;
    this.cursor = null;
    this.selected = null;
    pager.first.addEventListener("click", () => this.onPage(null, "first"));
    pager.prev.addEventListener("click", () => this.onPage(this.previous.at(-1) ?? null, "prev"));
    pager.next.addEventListener("click", () => this.onPage(this.next, "next"));
  }

  // Keep the way back: a page reached with Next remembers the page it came from.
  moved(direction) {
    if (direction === "next") this.previous.push(this.cursor);
    else if (direction === "prev") this.previous.pop();
    else this.previous = [];
  }

  static request(filters, { sort, cursor }) {
    return ["/v1/events", { ...filters, sort, cursor, limit: PAGE_SIZE, fields: FIELDS, total: "true" }];
  }

  async load(filters, view, signal) {
    this.table.dataset.state = "loading";
    const { sort, cursor } = view;
    const page = await this.api.json(...EventTable.request(filters, view), { signal });
    this.cursor = cursor;
    this.next = page.next_cursor;
    this.draw(page, sort);
    return page.total;
  }

  draw(page, sort) {
    const thead = this.table.tHead;
    clear(thead).append(
      h("tr", {}, COLUMNS.map((c) => this.header(c, sort)), h("th", { scope: "col" }, "Evidence")),
    );
    const tbody = this.table.tBodies[0];
    clear(tbody);
    for (const event of page.data) {
      const open = h(
        "button",
        { type: "button", class: "link", "aria-label": `Event ${event.id}: open its evidence`, onclick: () => this.onSelect(String(event.id)) },
        "Open",
      );
      const row = h(
        "tr",
        { dataset: { id: String(event.id) }, class: String(event.id) === this.selected ? "selected" : null },
        COLUMNS.map((c, i) => h(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, class: c.numeric ? "num" : null }, c.cell(event))),
        h("td", {}, open),
      );
      row.addEventListener("click", (e) => {
        if (e.target.closest("button")) return;
        this.onSelect(String(event.id));
      });
      tbody.append(row);
    }
    this.table.dataset.total = String(page.total);
    this.table.dataset.rows = String(page.data.length);
    this.totalNode.textContent = `(${formatNumber(page.total)})`;
    this.pager.next.disabled = !page.next_cursor;
    this.pager.prev.disabled = !this.cursor || !this.previous.length;
    this.pager.first.disabled = !this.cursor;
    this.table.dataset.state = "ready";
  }

  header(column, sort) {
    if (!column.sort || !this.sortKeys.has(column.sort)) {
      return h("th", { scope: "col", class: column.numeric ? "num" : null }, column.label);
    }
    const ascending = sort === column.sort;
    const descending = sort === `-${column.sort}`;
    const next = descending ? column.sort : `-${column.sort}`;
    return h(
      "th",
      {
        scope: "col",
        class: column.numeric ? "num" : null,
        "aria-sort": ascending ? "ascending" : descending ? "descending" : "none",
      },
      h(
        "button",
        { type: "button", class: "sort", onclick: () => this.onSort(next), title: `Sort by ${column.label.toLowerCase()}` },
        column.label,
        ascending ? " ▲" : descending ? " ▼" : "",
      ),
    );
  }

  select(id) {
    this.selected = id;
    for (const row of this.table.tBodies[0].rows) row.classList.toggle("selected", row.dataset.id === id);
  }
}

function dates(e) {
  const start = formatDate(e.date_start, e.date_precision);
  const end = formatDate(e.date_end || e.date_start, e.date_precision);
  return end === start ? start : `${start} – ${end}`;
}

function typeCell(e) {
  const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
  swatch.style.backgroundColor = colourOf(e.event_type);
  return [swatch, e.event_type];
}
