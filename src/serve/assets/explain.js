// The derivation of ∂C/∂w for an activation × loss × input form, from /api/explain (the same
// objects as `nabla explain`), typeset with KaTeX.
"use strict";

const $ = id => document.getElementById(id);

function math(latex, display = true) {
  const node = element("div", { class: "math" });
  katex.render(latex, node, { displayMode: display, throwOnError: false });
  return node;
}

async function setUp() {
  const { data } = await api("GET", "/api/options");
  fillSelect($("activation"), data.activations);
  fillSelect($("loss"), data.losses, "(the activation's default)");
  fillSelect($("from"), data.forms, "(as nabla train reads it)");
  const asked = new URLSearchParams(location.search);
  for (const field of ["activation", "loss", "from", "targets"]) {
    if (asked.has(field)) $(field).value = asked.get(field);
  }
  if (!asked.has("activation")) $("activation").value = "relu";
  if (!asked.has("loss") && !asked.has("activation")) $("loss").value = "cross-entropy";
  $("explain").onclick = explain;
  explain();
}

async function explain() {
  const query = new URLSearchParams();
  for (const field of ["activation", "loss", "from", "targets"]) {
    if ($(field).value) query.set(field, $(field).value);
  }
  history.replaceState(null, "", "/explain?" + query);
  const out = $("derivation");
  const { ok, data } = await api("GET", "/api/explain?" + query);
  if (!ok) { out.replaceChildren(element("p", { class: "failed" }, data.error)); return; }
  const c = data.checked || {};
  const sound = data.compatible;
  out.replaceChildren(
    element("h2", {}, `${data.activation} output · ${data.loss} · from ${data.from} · ${data.targets} targets`),
    element("p", { class: sound ? "verdict-yes" : "verdict-no" }, "Probability model: " + data.probability_model),
    element("h3", {}, "Setting"),
    element("ul", {}, ...data.setting.map(s => element("li", {}, s))),
    element("h3", {}, "Derivation"),
    element("ol", { id: "steps" }, ...data.steps.map(step =>
      element("li", {}, math(step.latex), element("div", { class: "why" }, step.why),
        step.check ? element("div", { class: "check" },
          `✓ agrees with ${step.check.against} at ${step.check.points} random points (largest relative difference ${fmt(step.check.max_relative_difference)})`) : null))),
    element("h3", {}, "Result"),
    element("div", { class: "result", id: "result" }, math(data.gradient.latex), math(data.bias.latex)),
    data.region ? element("p", {}, "Where it holds: " + data.region) : null,
    data.undefined_where.length ? element("div", {}, element("h3", {}, "Where it is undefined"),
      element("ul", {}, ...data.undefined_where.map(u => element("li", {}, typeof u === "string" ? u : JSON.stringify(u))))) : null,
    data.what_goes_wrong.length ? element("div", {}, element("h3", {}, "What goes wrong"),
      element("ul", {}, ...data.what_goes_wrong.map(u => element("li", {}, typeof u === "string" ? u : JSON.stringify(u))))) : null,
    element("h3", {}, "Machine check"),
    element("table", { class: "checks" },
      element("tr", {}, element("td", {}, "points checked"), element("td", {}, c.points)),
      element("tr", {}, element("td", {}, "largest difference between consecutive steps"), element("td", {}, fmt(c.max_step_difference))),
      element("tr", {}, element("td", {}, "result against finite differences of C"), element("td", {}, fmt(c.gradient_error))),
      element("tr", {}, element("td", {}, "∂C/∂b against finite differences"), element("td", {}, fmt(c.bias_error))),
      element("tr", {}, element("td", {}, "boundaries checked"), element("td", {}, c.boundaries))),
    element("h3", {}, "Advice"),
    element("p", { id: "advice" }, data.advice),
    data.reverse ? element("p", {}, data.reverse) : null,
    data.frameworks.length ? element("div", {}, element("h3", {}, "What PyTorch and Keras do"),
      element("ul", {}, ...data.frameworks.map(f => element("li", {}, f)))) : null);
}

setUp();
