// The runs under --runs as live curves: the list and each chosen run's new epochs, every second.
"use strict";

const $ = id => document.getElementById(id);
const known = new Map();   // name -> {records, next, shown, colour}

async function refresh() {
  const { ok, data } = await api("GET", "/api/runs");
  if (ok) {
    for (const run of data.runs) {
      if (!known.has(run.name)) {
        const colour = PALETTE[known.size % PALETTE.length];
        known.set(run.name, { records: [], next: 0, shown: known.size < 8, colour });
        const box = element("input", { type: "checkbox", "data-run": run.name });
        box.checked = known.get(run.name).shown;
        box.onchange = () => { known.get(run.name).shown = box.checked; draw(); };
        $("list").append(element("li", { "data-run": run.name, "data-epochs": "0" }, box, " ", element("span", { class: "swatch", style: "background:" + colour }), run.name));
      }
    }
  }
  for (const [name, run] of known) {
    if (!run.shown) continue;
    // A long run comes in bounded replies: ask until there are no more.
    for (let more = true; more;) {
      const reply = await api("GET", `/api/run?name=${encodeURIComponent(name)}&from=${run.next}`);
      more = reply.ok && reply.data.more;
      if (reply.ok) { run.records.push(...reply.data.records); run.next = reply.data.next; }
    }
    const item = document.querySelector(`li[data-run="${CSS.escape(name)}"]`);
    if (item) item.dataset.epochs = String(run.records.length);
  }
  draw();
}

function draw() {
  const loss = [], accuracy = [];
  for (const [name, run] of known) {
    if (!run.shown) continue;
    const r = run.records;
    loss.push({ name, colour: run.colour, points: r.map(e => [e.epoch, e.train_loss]) });
    if (r.some(e => e.validation_loss !== null && e.validation_loss !== undefined))
      loss.push({ name: name + " (validation)", colour: run.colour, dash: true, points: r.map(e => [e.epoch, e.validation_loss]) });
    const score = r.some(e => e.validation_accuracy !== null && e.validation_accuracy !== undefined) ? "validation_accuracy" : "train_accuracy";
    accuracy.push({ name, colour: run.colour, points: r.map(e => [e.epoch, e[score]]) });
  }
  drawChart($("loss-curve"), "loss (dashed: validation)", loss);
  drawChart($("accuracy-curve"), "accuracy (validation when there is one)", accuracy);
}

refresh();
setInterval(refresh, 1000);
