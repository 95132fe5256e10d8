// The event panel: what happened (type, dates with their precision, the place and the places
// containing it, the actors by side, the figures) and the evidence: each source article with
// its outlet and date, its body with the supporting quotes highlighted at their offsets,
// the speakers, the claims side by side, corroboration, linked incidents, the dataset record
// of an imported event, or "no evidence"; and the event's history.

import { h, append, clear, formatDate, formatNumber } from "./dom.js";

export class EventPanel {
  constructor({ panel, body, title, api, onClose, onSelect }) {
    this.panel = panel;
    this.body = body;
    this.title = title;
    this.api = api;
    this.onClose = onClose;
    this.onSelect = onSelect;
    this.controller = null;
    panel.querySelector("#panel-close").addEventListener("click", () => this.onClose());
    // Escape closes it, wherever the focus is (a button that disabled itself leaves it on
    // the page), unless a dialog is open above it.
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !panel.hidden && !document.querySelector("dialog[open]")) this.onClose();
    });
  }

  async show(id) {
    this.controller?.abort();
    this.controller = new AbortController();
    const signal = this.controller.signal;
    this.panel.hidden = false;
    this.panel.dataset.state = "loading";
    this.panel.dataset.event = id;
    this.title.textContent = `Event ${id}`;
    clear(this.body).append(h("p", { class: "loading" }, "Loading the event…"));
    this.panel.focus();
    try {
      const event = await this.api.json(`/v1/events/${id}`, null, { signal });
      const articles = await Promise.all(
        event.sources.map((s) =>
          this.api.json(`/v1/articles/${s.article_id}`, null, { signal }).catch((err) => {
            if (err.name === "AbortError") throw err;
            return { error: err };
          }),
        ),
      );
      if (signal.aborted) return;
      this.draw(event, articles);
      this.panel.dataset.state = "ready";
    } catch (err) {
      if (err.name === "AbortError") return;
      clear(this.body).append(
        h("p", { class: "error", role: "alert" }, `This event could not be read: ${err.message}`),
        h("button", { type: "button", onclick: () => this.show(id) }, "Try again"),
      );
      this.panel.dataset.state = "error";
    }
  }

  hide() {
    this.controller?.abort();
    this.panel.hidden = true;
    delete this.panel.dataset.event;
  }

  draw(event, articles) {
    this.title.textContent = [event.event_type, event.sub_event_type].filter(Boolean).join(" · ");
    clear(this.body);
    if (event.status !== "active") {
      this.body.append(
        h("p", { class: "error" }, `Retracted ${formatDate((event.retracted_at || "").slice(0, 10))}: `, event.retraction_reason || ""),
      );
    }
    this.body.append(
      h(
        "dl",
        { class: "facts" },
        fact("Event", `#${event.id}${event.external_id ? ` (${event.external_id})` : ""}`),
        fact("Dates", dateRange(event)),
        fact("Place", place(event.place, event.geo_precision)),
        fact("Fatalities", fatalities(event)),
      ),
    );
    if (event.summary) this.body.append(h("p", { class: "summary" }, event.summary));
    this.body.append(actors(event.actors));
    if (event.measures?.length) {
      this.body.append(
        h("h3", {}, "Measures"),
        h(
          "ul",
          {},
          event.measures.map((m) => h("li", {}, [m.qualifier, m.value === null ? null : formatNumber(m.value), m.kind].filter((x) => x !== null && x !== undefined && x !== "").join(" "))),
        ),
      );
    }
    this.body.append(evidence(event, articles, this.onSelect));
    this.body.append(this.history(event.id));
  }

  history(id) {
    const section = h("section", { class: "history" }, h("h3", {}, "History"));
    const list = h("ol", { class: "revisions" });
    const show = h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: async () => {
          show.disabled = true;
          try {
            const page = await this.api.json(`/v1/events/${id}/history`, { limit: 100 });
            append(
              clear(list),
              page.data.map((r) =>
                h(
                  "li",
                  {},
                  h("strong", {}, r.action),
                  ` ${r.changed_at.slice(0, 16).replace("T", " ")} UTC`,
                  Object.keys(r.changes).length ? `: ${Object.keys(r.changes).join(", ")}` : "",
                ),
              ),
            );
          } catch (err) {
            clear(list).append(h("li", { class: "error" }, err.message));
          }
        },
      },
      "Show the event's history",
    );
    section.append(show, " ", h("a", { href: this.api.url(`/v1/events/${id}/history`) }, "(as JSON)"), list);
    return section;
  }
}

function fact(term, ...details) {
  return [h("dt", {}, term), h("dd", {}, ...details)];
}

function dateRange(e) {
  const start = formatDate(e.date_start, e.date_precision);
  const end = formatDate(e.date_end, e.date_precision);
  return `${end === start ? start : `${start} – ${end}`} (known to the ${e.date_precision})`;
}

const GEO_PRECISION = { 1: "at the place", 2: "near the place", 3: "somewhere in the region" };

function place(p, precision) {
  if (!p) return "unknown";
  const chain = [...p.ancestors, p].map((a) => a.name).join(" › ");
  const where = p.latitude === null ? "no coordinates" : `${p.latitude.toFixed(3)}, ${p.longitude.toFixed(3)}`;
  return `${chain} (${where}${precision ? `; ${GEO_PRECISION[precision] || precision}` : ""})`;
}

function fatalities(e) {
  if (e.fatalities_best === null && e.fatalities_low === null && e.fatalities_high === null) return "unknown";
  const range = e.fatalities_low !== null || e.fatalities_high !== null
    ? ` (low ${formatNumber(e.fatalities_low)}, high ${formatNumber(e.fatalities_high)})`
    : "";
  return `${formatNumber(e.fatalities_best)}${range}`;
}

function actors(list) {
  const section = h("section", { class: "actors" }, h("h3", {}, "Actors"));
  if (!list.length) return section.append(h("p", {}, "No actors recorded.")), section;
  const sides = [
    ["a", "Side A"],
    ["b", "Side B"],
    [null, "Without a side"],
  ];
  const columns = h("div", { class: "sides" });
  for (const [side, label] of sides) {
    const members = list.filter((a) => (a.side ?? null) === side);
    if (!members.length) continue;
    columns.append(
      h(
        "div",
        { class: "side" },
        h("h4", {}, label),
        h("ul", {}, members.map((a) => h("li", {}, h("strong", {}, a.name), ` ${a.role} · ${a.kind.replaceAll("_", " ")}${a.country ? ` · ${a.country}` : ""}`))),
      ),
    );
  }
  section.append(columns);
  return section;
}

// -- the evidence ------------------------------------------------------------------------------

function evidence(event, articles, onSelect) {
  const section = h("section", { class: "evidence" }, h("h3", {}, "Evidence"));
  const outlets = new Set(event.sources.map((s) => s.outlet.id));
  if (!event.sources.length && !event.provenance) {
    section.append(h("p", { class: "no-evidence" }, "No evidence: no article or dataset record supports this event."));
  } else if (event.sources.length) {
    section.append(
      h(
        "p",
        { class: "corroboration" },
        `Reported by ${event.sources.length} article${event.sources.length === 1 ? "" : "s"} from ${outlets.size} outlet${outlets.size === 1 ? "" : "s"}.`,
      ),
    );
  }
  // What the evidence issue adds to the event's answer, shown once the API gives it.
  if (typeof event.disputed === "boolean") {
    section.append(
      h("p", { class: event.disputed ? "disputed" : "agreed" }, event.disputed ? "Disputed: the sources disagree on the figures." : "The sources agree."),
    );
  }
  if (event.corroboration && typeof event.corroboration === "object") {
    section.append(h("dl", { class: "facts" }, Object.entries(event.corroboration).map(([k, v]) => fact(words(k), scalar(v)))));
  }
  if (Array.isArray(event.claims) && event.claims.length) section.append(claims(event.claims));
  const incidents = event.incidents || (event.incident ? [event.incident] : []);
  if (incidents.length) section.append(incidentList(incidents, event.id, onSelect));
  event.sources.forEach((source, i) => section.append(sourceView(source, articles[i])));
  if (event.provenance) section.append(provenance(event.provenance));
  return section;
}

function sourceView(source, article) {
  const title = source.title || "(untitled article)";
  const heading = source.url
    ? h("a", { href: source.url, rel: "noopener noreferrer", target: "_blank" }, title)
    : title;
  const view = h(
    "article",
    { class: "source", dataset: { article: String(source.article_id) } },
    h("h4", {}, heading),
    h("p", { class: "muted" }, source.outlet.name, source.published_date ? `, ${formatDate(source.published_date)}` : ""),
  );
  if (source.quotes.length) {
    view.append(
      h(
        "ul",
        { class: "quotes" },
        source.quotes.map((q) =>
          h("li", {}, h("q", {}, q.text), " — ", speaker(q.speaker)),
        ),
      ),
    );
  } else {
    view.append(h("p", { class: "muted" }, "The article supports the event as a whole (no quote cited)."));
  }
  if (article && !article.error && article.body) {
    view.append(
      h(
        "details",
        { open: true },
        h("summary", {}, "The article, with the quotes highlighted"),
        highlighted(article.body, source.quotes),
      ),
    );
  } else if (article?.error) {
    view.append(h("p", { class: "error" }, `The article's text could not be read: ${article.error.message}`));
  }
  return view;
}

function speaker(s) {
  if (!s || !s.name) return "unattributed";
  const parts = [s.name];
  if (s.role) parts.push(`, ${s.role}`);
  if (s.speaks_for) parts.push(` (for ${s.speaks_for.name})`);
  return parts.join("");
}

// The body as text with each supporting quote in a <mark> exactly over [start, end), in code
// points (the API's offsets), not UTF-16 units. Overlapping quotes split into segments, each
// marked with every quote covering it.
export function highlighted(body, quotes) {
  const chars = Array.from(body);
  const cuts = new Set([0, chars.length]);
  for (const q of quotes) {
    cuts.add(Math.max(0, Math.min(q.start, chars.length)));
    cuts.add(Math.max(0, Math.min(q.end, chars.length)));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const container = h("div", { class: "body", dataset: { length: String(chars.length) } });
  for (let i = 0; i < points.length - 1; i++) {
    const [from, to] = [points[i], points[i + 1]];
    const text = chars.slice(from, to).join("");
    const covering = quotes.filter((q) => q.start <= from && to <= q.end);
    if (!covering.length) {
      container.append(text);
      continue;
    }
    const mark = h("mark", {
      dataset: { quotes: covering.map((q) => q.id).join(" "), start: String(from), end: String(to) },
      title: covering.map((q) => speaker(q.speaker)).join("; "),
    }, text);
    container.append(mark);
  }
  return container;
}

function claims(list) {
  // Side by side: one row per claim, the columns every claim has.
  const keys = [...new Set(list.flatMap((c) => Object.keys(c)))].filter((k) => k !== "id");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "claims" },
      h("caption", {}, "Claims, side by side"),
      h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, words(k))))),
      h("tbody", {}, list.map((c) => h("tr", {}, keys.map((k) => h("td", {}, scalar(c[k])))))),
    ),
  );
}

function incidentList(incidents, self, onSelect) {
  return h(
    "div",
    { class: "incidents" },
    h("h4", {}, "Linked incidents"),
    h(
      "ul",
      {},
      incidents.map((inc) => {
        const members = (inc.events || inc.event_ids || []).map((e) => (typeof e === "object" ? e.id : e));
        return h(
          "li",
          {},
          `Incident ${inc.id ?? ""}`,
          members.length ? ": " : "",
          members
            .filter((m) => String(m) !== String(self))
            .map((m) => h("button", { type: "button", class: "link", onclick: () => onSelect(String(m)) }, `event ${m}`)),
        );
      }),
    ),
  );
}

function provenance(p) {
  return h(
    "div",
    { class: "provenance" },
    h("h4", {}, `Dataset record: ${p.dataset}${p.version ? ` ${p.version}` : ""}, id ${p.external_id}`),
    p.citation ? h("p", { class: "muted" }, p.citation, p.licence ? ` (${p.licence})` : "") : null,
    h("dl", { class: "facts" }, Object.entries(p.original || {}).map(([k, v]) => fact(k, v))),
  );
}

function words(key) {
  return key.replaceAll("_", " ");
}

function scalar(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return value.name ?? value.title ?? JSON.stringify(value);
  return String(value);
}
