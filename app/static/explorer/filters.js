// The filter panel. Each filter is one declaration below; a filter is shown only when the
// API's OpenAPI document lists its parameter on GET /v1/events, and its choices come from
// GET /v1/vocabulary (`<param>s`) or from the parameter's own enum. So the filters of other
// issues (the datasets' dimensions, the evidence filters) appear once the API has them.

import { h, clear } from "./dom.js";

export const FILTERS = [
  { param: "date_from", label: "From", control: "date" },
  { param: "date_to", label: "To", control: "date" },
  { param: "event_type", label: "Event type", control: "choice" },
  {
    param: "sub_event_type",
    label: "Sub-type",
    control: "choice",
    dependsOn: "event_type",
    // The sub-types of the types chosen, or all of them.
    choices: ({ vocab, filters }) =>
      (vocab.event_types || [])
        .filter((t) => !filters.event_type || filters.event_type.includes(t.name))
        .flatMap((t) => t.sub_event_types.map((s) => s.name)),
  },
  { param: "place", label: "Place", control: "lookup", collection: "places" },
  { param: "actor", label: "Actor", control: "lookup", collection: "actors" },
  { param: "outlet", label: "Outlet", control: "lookup", collection: "outlets" },
  { param: "q", label: "Text", control: "text", hint: 'words, "a phrase", OR, -word, prefix*' },
  { param: "country", label: "Country code", control: "text", hint: "ISO alpha-2, e.g. SY" },
  { param: "fatalities_min", label: "Fatalities at least", control: "number" },
  // The datasets issue's dimensions: a dataset's code (its schemes and codes are in GET
  // /v1/vocabulary, `dimensions`), the sides' interaction and kinds, coarse dates.
  {
    param: "dimension",
    label: "Dataset code",
    control: "text",
    hint: "scheme:code, e.g. ucdp.type_of_violence:1",
  },
  { param: "interaction", label: "Interaction" },
  { param: "actor_kind", label: "Kind of actor" },
  { param: "date_precision", label: "Date precision" },
  { param: "date_overlap", label: "Overlapping the dates" },
  // The evidence issue's filters.
  { param: "sources_min", label: "Sources at least" },
  { param: "outlets_min", label: "Outlets at least" },
  { param: "disputed", label: "Disputed" },
  { param: "evidence", label: "Evidence" },
];

// The filters declared with their control are GET /v1/events's own since the explorer came;
// the others appear when the API gains them.
export const ALWAYS = FILTERS.filter((f) => f.control).map((f) => f.param);

// Parameters of GET /v1/events that are not filters of the events.
const NOT_FILTERS = new Set(["limit", "cursor", "total", "fields", "include", "format", "sort"]);
const CHECKBOXES_UP_TO = 8;

function unwrap(schema) {
  if (schema && schema.anyOf) return schema.anyOf.find((s) => s.type !== "null") || {};
  return schema || {};
}

// The filter parameters the API takes, with their schemas: {param: schema}.
export function apiFilterParams(openapi) {
  const operation = openapi.paths["/v1/events"].get;
  const params = {};
  for (const p of operation.parameters || []) {
    if (p.in === "query" && !NOT_FILTERS.has(p.name)) params[p.name] = unwrap(p.schema);
  }
  return params;
}

// The declared filters the API has, each with how to show it ("auto": from its schema).
function detect(openapi, vocab) {
  const params = apiFilterParams(openapi);
  return FILTERS.filter((f) => f.param in params).map((f) => {
    const schema = params[f.param];
    const multiple = schema.type === "array";
    const item = multiple ? unwrap(schema.items) : schema;
    const vocabulary = vocab[`${f.param}s`];
    let control = f.control;
    let choices = f.choices;
    if (!choices && (control === "choice" || !control)) {
      if (Array.isArray(vocabulary)) choices = () => vocabulary.map((t) => t.name ?? t);
      else if (item.enum) choices = () => item.enum.map(String);
    }
    if (!control) {
      if (choices) control = "choice";
      else if (item.type === "boolean") control = "boolean";
      else if (item.type === "integer" || item.type === "number") control = "number";
      else if (item.format === "date") control = "date";
      else control = "text";
    }
    return { ...f, control, choices, multiple, min: item.minimum, max: item.maximum };
  });
}

export class FilterPanel {
  constructor({ form, api, openapi, vocab, onChange }) {
    this.form = form;
    this.api = api;
    this.vocab = vocab;
    this.onChange = onChange;
    this.filters = detect(openapi, vocab);
    this.names = new Map(); // "collection:id" -> name, for lookups and the summaries
    this.errorNodes = new Map();
    this.state = { filters: {} };
    // Enter in a field applies it (its change event); the form itself never submits.
    form.addEventListener("submit", (e) => e.preventDefault());
  }

  get params() {
    return this.filters.map((f) => f.param);
  }

  render(state) {
    this.state = state;
    clear(this.form);
    this.errorNodes.clear();
    this.general = h("p", { class: "error", role: "alert", id: "filters-error" });
    this.form.append(this.general);
    for (const f of this.filters) this.form.append(this.field(f));
    this.form.append(
      h("button", { type: "button", class: "link", onclick: () => this.onChange({}, true) }, "Clear all filters"),
    );
  }

  field(f) {
    const id = `filter-${f.param}`;
    const errorId = `${id}-error`;
    const error = h("p", { class: "error", id: errorId });
    this.errorNodes.set(f.param, error);
    const values = this.state.filters[f.param] || [];
    const change = (next) => this.set(f.param, next);
    const wrap = h("div", { class: "field", dataset: { param: f.param } });
    const described = { "aria-describedby": errorId };
    if (f.control === "choice") {
      const choices = f.choices({ vocab: this.vocab, filters: this.state.filters });
      if (f.multiple && choices.length <= CHECKBOXES_UP_TO) {
        const boxes = choices.map((c) =>
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              name: f.param,
              value: c,
              checked: values.includes(c),
              onchange: () => change([...wrap.querySelectorAll("input:checked")].map((i) => i.value)),
            }),
            c,
          ),
        );
        wrap.append(h("fieldset", described, h("legend", {}, f.label), boxes), error);
        return wrap;
      }
      const select = h(
        "select",
        {
          id,
          name: f.param,
          multiple: f.multiple,
          size: f.multiple ? 6 : undefined,
          ...described,
          onchange: (e) => change([...e.target.selectedOptions].map((o) => o.value).filter(Boolean)),
        },
        f.multiple ? [] : h("option", { value: "" }, "any"),
        choices.map((c) => h("option", { value: c, selected: values.includes(c) }, c)),
      );
      wrap.append(h("label", { for: id }, f.label), select, error);
      return wrap;
    }
    if (f.control === "boolean") {
      const select = h(
        "select",
        { id, name: f.param, ...described, onchange: (e) => change(e.target.value ? [e.target.value] : []) },
        h("option", { value: "" }, "any"),
        h("option", { value: "true", selected: values[0] === "true" }, "yes"),
        h("option", { value: "false", selected: values[0] === "false" }, "no"),
      );
      wrap.append(h("label", { for: id }, f.label), select, error);
      return wrap;
    }
    if (f.control === "lookup") {
      wrap.append(h("label", { for: id }, f.label), ...this.lookup(f, id, described), error);
      return wrap;
    }
    const input = h("input", {
      id,
      name: f.param,
      type: { date: "date", number: "number", text: "search" }[f.control] || "text",
      value: values[0] || "",
      min: f.min,
      max: f.max,
      placeholder: f.hint,
      ...described,
      onchange: (e) => change(e.target.value.trim() ? [e.target.value.trim()] : []),
    });
    wrap.append(h("label", { for: id }, f.label), input, error);
    return wrap;
  }

  // A name typed, suggestions from the API's name_prefix= search (aliases included), the
  // chosen record's id as the filter's value.
  lookup(f, id, described) {
    const listId = `${id}-options`;
    const list = h("datalist", { id: listId });
    const current = (this.state.filters[f.param] || [])[0];
    const input = h("input", {
      id,
      name: f.param,
      type: "search",
      list: listId,
      autocomplete: "off",
      placeholder: "type a name",
      ...described,
    });
    const options = new Map(); // label -> id
    if (current) {
      input.value = `#${current}`;
      this.nameOf(f.collection, current).then((name) => {
        if (input.value === `#${current}`) input.value = label(name, current);
      });
    }
    let timer = null;
    let controller = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const typed = input.value;
      if (options.has(typed) || /#\d+$/.test(typed)) return;
      timer = setTimeout(async () => {
        if (!/[\p{L}\p{N}]/u.test(typed)) return;
        controller?.abort();
        controller = new AbortController();
        try {
          const page = await this.api.json(
            `/v1/${f.collection}`,
            { name_prefix: typed, limit: 10 },
            { signal: controller.signal },
          );
          options.clear();
          clear(list);
          for (const row of page.data) {
            const text = label(row.name, row.id, row.kind, row.country);
            options.set(text, row.id);
            this.names.set(`${f.collection}:${row.id}`, row.name);
            list.append(h("option", { value: text }));
          }
        } catch (err) {
          if (err.name !== "AbortError") this.showError(f.param, err.message);
        }
      }, 150);
    });
    input.addEventListener("change", () => {
      const typed = input.value.trim();
      if (!typed) return this.set(f.param, []);
      const picked = options.get(typed) ?? (typed.match(/#(\d+)$/) || [])[1];
      if (picked) return this.set(f.param, [String(picked)]);
      if (options.size === 1) {
        const [[text, only]] = options;
        input.value = text;
        return this.set(f.param, [String(only)]);
      }
      this.showError(f.param, "Choose one of the suggestions.");
    });
    return [input, list];
  }

  async nameOf(collection, id) {
    const key = `${collection}:${id}`;
    if (!this.names.has(key)) {
      try {
        const record = await this.api.json(`/v1/${collection}/${id}`);
        this.names.set(key, record.name);
      } catch {
        return `#${id}`;
      }
    }
    return this.names.get(key);
  }

  set(param, values) {
    const filters = { ...this.state.filters };
    if (values.length) filters[param] = values;
    else delete filters[param];
    // A sub-type that does not belong to the types chosen any more goes with them.
    for (const f of this.filters) {
      if (f.dependsOn === param && filters[f.param]) {
        const allowed = new Set(f.choices({ vocab: this.vocab, filters }));
        const kept = filters[f.param].filter((v) => allowed.has(v));
        if (kept.length) filters[f.param] = kept;
        else delete filters[f.param];
      }
    }
    this.onChange(filters, this.filters.some((f) => f.dependsOn === param));
  }

  // The API's refusal beside the control it names; the rest above the filters.
  showErrors(error) {
    this.clearErrors();
    const fields = error.fields();
    let placed = false;
    for (const [param, message] of fields) {
      if (this.errorNodes.has(param)) {
        this.showError(param, message);
        placed = true;
      }
    }
    if (!placed || !fields.length) this.general.textContent = error.message;
    else this.general.textContent = error.problem.detail || "";
  }

  showError(param, message) {
    const node = this.errorNodes.get(param);
    if (!node) return;
    node.textContent = message;
    node.closest(".field")?.classList.add("invalid");
  }

  clearErrors() {
    if (this.general) this.general.textContent = "";
    for (const node of this.errorNodes.values()) {
      node.textContent = "";
      node.closest(".field")?.classList.remove("invalid");
    }
  }

  // "Event type: Battles; Place: al-Ruheibah": the filters in force, in words.
  async describe(filters) {
    const parts = [];
    for (const [param, values] of Object.entries(filters)) {
      const f = this.filters.find((x) => x.param === param);
      let shown = values;
      if (f && f.control === "lookup") {
        shown = await Promise.all(values.map((v) => this.nameOf(f.collection, v)));
      }
      parts.push(`${f ? f.label : param}: ${shown.join(" or ")}`);
    }
    return parts.join("; ");
  }
}

function label(name, id, kind, country) {
  const about = [kind, country].filter(Boolean).join(", ");
  return `${name}${about ? ` (${about})` : ""} #${id}`;
}
