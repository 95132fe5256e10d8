// One colour per event type, shared by the map, the timeline and the table: ColorBrewer's
// "Dark2" (readable on the light base map, distinct for the common colour-vision deficiencies).

const COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];
const OTHER = "#999999";
let types = [];

// The event types in the vocabulary's order, so each keeps its colour across reloads.
export function setTypes(names) {
  types = [...names];
}

export function colourOf(type) {
  const i = types.indexOf(type);
  return i < 0 ? OTHER : COLOURS[i % COLOURS.length];
}

// A MapLibre expression giving a feature's colour from its event_type property.
export function colourExpression(property = "event_type") {
  if (!types.length) return OTHER;
  return ["match", ["get", property], ...types.flatMap((t) => [t, colourOf(t)]), OTHER];
}
