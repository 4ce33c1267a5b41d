// The playground: trains through /api/train and draws what the event stream reports.
"use strict";

const $ = id => document.getElementById(id);
let runs = [];   // {id, label, colour, progress, source, figure}

async function setUp() {
  const { data } = await api("GET", "/api/options");
  fillSelect($("data"), data.data);
  fillSelect($("activation"), data.activations);
  fillSelect($("output"), data.activations, "(the task's default)");
  fillSelect($("loss"), data.losses, "(the output's default)");
  fillSelect($("from"), data.forms, "(the pairing's default)");
  fillSelect($("optimizer"), data.optimizers);
  const d = data.defaults;
  $("data").value = d.data; $("samples").value = d.samples; $("hidden").value = d.hidden.join(",");
  $("activation").value = d.activation; $("optimizer").value = d.optimizer;
  $("batch").value = d.batch; $("epochs").value = d.epochs; $("seed").value = d.seed;
  $("delay_ms").value = 20;
  $("train").onclick = train; $("pause").onclick = pause; $("step").onclick = step;
  $("reset").onclick = reset;
}

function spec() {
  const number = id => $(id).value === "" ? null : Number($(id).value);
  const text = id => $(id).value === "" ? null : $(id).value;
  const hidden = $("hidden").value.trim();
  return {
    data: $("data").value, samples: number("samples"), noise: number("noise"),
    hidden: hidden === "" || hidden === "none" ? [] : hidden.split(",").map(v => Number(v.trim())),
    activation: $("activation").value, output: text("output"), loss: text("loss"), from: text("from"),
    optimizer: $("optimizer").value, learning_rate: number("learning_rate"),
    batch: number("batch"), epochs: number("epochs"), seed: number("seed"),
    allow_unsafe: false, delay_ms: number("delay_ms") ?? 0,
  };
}

function showRefusal(refusal, message) {
  const box = $("refusal");
  box.replaceChildren(
    element("h3", {}, "Refused: " + refusal.summary),
    element("p", {}, message),
    element("ul", {}, ...refusal.undefined.map(u => element("li", {}, u))),
    element("p", {}, element("strong", {}, "Fix: "), refusal.fix),
    element("p", {}, element("a", { href: refusal.explain, id: "derivation-link" }, "See the derivation: where ∂C/∂w is undefined, step by step →")),
    element("p", {}, element("small", {}, "Tick “allow unsafe” to train it anyway (clipped as Keras clips it), beside the sound " + refusal.sound_output + " output.")));
  box.classList.remove("hidden");
}

async function launch(body, label, colour, paused) {
  const reply = await api("POST", "/api/train" + (paused ? "?paused=true" : ""), body);
  if (!reply.ok) return reply;
  const run = { id: reply.data.id, label, colour, progress: reply.data.progress, source: null };
  runs.push(run);
  addFigure(run, runs.length - 1);
  listen(run);
  return reply;
}

async function start(paused) {
  await reset();
  const s = spec();
  const reply = await launch(s, describe(s), PALETTE[0], paused);
  if (reply.ok) return true;
  const refusal = reply.data && reply.data.refusal;
  if (refusal && $("allow_unsafe").checked) {
    const unsafe = { ...s, allow_unsafe: true };
    const sound = { ...s, output: refusal.sound_output, from: null };
    await launch(unsafe, describe(s) + " (unsafe, clipped)", PALETTE[3], paused);
    await launch(sound, describe(sound) + " (fused)", PALETTE[0], paused);
    return runs.length > 0;
  }
  if (refusal) showRefusal(refusal, reply.data.error);
  else $("error").textContent = reply.data ? reply.data.error : "the server did not answer";
  return false;
}

function describe(s) {
  return (s.output || "default") + " output, " + (s.loss || "default loss");
}

async function train() {
  if (runs.length && runs.every(r => r.progress.status === "paused")) {
    for (const run of runs) await api("POST", `/api/train/${run.id}/resume`);
    return;
  }
  await start(false);
}

async function pause() {
  for (const run of runs) await api("POST", `/api/train/${run.id}/pause`);
}

async function step() {
  if (!runs.length || runs.every(r => ["finished", "stopped", "failed"].includes(r.progress.status))) {
    if (!(await start(true))) return;
  }
  for (const run of runs) await api("POST", `/api/train/${run.id}/step`);
}

async function reset() {
  for (const run of runs) {
    if (run.source) run.source.close();
    await api("DELETE", `/api/train/${run.id}`);
  }
  runs = [];
  $("pictures").replaceChildren(); $("runs").replaceChildren();
  $("refusal").classList.add("hidden"); $("error").textContent = "";
  drawCurves();
}

function addFigure(run, n) {
  const canvas = element("canvas", { id: "boundary-" + n, width: 320, height: 320, "data-epoch": "0" });
  const caption = element("figcaption", {}, element("span", { class: "swatch", style: "background:" + run.colour }), run.label);
  $("pictures").append(element("figure", {}, caption, canvas));
  $("runs").append(element("div", { id: "status-" + n, class: "status" }),
                   element("div", { class: "command" }, run.progress.command));
  run.canvas = canvas; run.status = $("status-" + n);
}

function listen(run) {
  const source = new EventSource(`/api/train/${run.id}/events`);
  run.source = source;
  source.addEventListener("progress", e => { run.progress = JSON.parse(e.data); redraw(run); });
  source.addEventListener("update", e => {
    const u = JSON.parse(e.data), p = run.progress;
    p.epochs = p.epochs.slice(0, u.epochs_from).concat(u.epochs);
    Object.assign(p, { status: u.status, version: u.version, boundary: u.boundary, test_accuracy: u.test_accuracy, error: u.error });
    redraw(run);
    if (["finished", "stopped", "failed"].includes(u.status)) source.close();
  });
}

function redraw(run) {
  drawBoundary(run);
  drawCurves();
  const p = run.progress, last = p.epochs[p.epochs.length - 1];
  let text = `${p.status} · epoch ${p.epochs.length}/${p.epochs_planned}`;
  if (last) text += ` · loss ${fmt(last.train_loss)} · train accuracy ${fmt(last.train_accuracy)}`;
  if (p.test_accuracy !== null && p.test_accuracy !== undefined) text += ` · test accuracy ${fmt(p.test_accuracy)}`;
  run.status.textContent = text;
  run.status.classList.toggle("failed", p.status === "failed");
  if (p.error) run.status.textContent += "\n" + p.error;
}

function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function drawBoundary(run) {
  const p = run.progress, canvas = run.canvas, g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
  const [x0, x1] = p.x_range, [y0, y1] = p.y_range;
  if (x1 === x0 || y1 === y0) return;
  const b = p.boundary;
  if (b) {
    const n = b.size, cells = g.createImageData(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const cell = i * n + j, k = ((n - 1 - i) * n + j) * 4, c = b.classes[cell];
      const [r, gr, bl] = c === null ? [120, 120, 120] : hexToRgb(PALETTE[c % PALETTE.length]);
      const a = c === null ? 0.5 : 0.12 + 0.5 * Math.max(0, (b.confidence[cell] - 0.5) * 2);
      cells.data[k] = r * a + 255 * (1 - a); cells.data[k + 1] = gr * a + 255 * (1 - a);
      cells.data[k + 2] = bl * a + 255 * (1 - a); cells.data[k + 3] = 255;
    }
    const small = document.createElement("canvas"); small.width = n; small.height = n;
    small.getContext("2d").putImageData(cells, 0, 0);
    g.imageSmoothingEnabled = true; g.drawImage(small, 0, 0, W, H);
    canvas.dataset.epoch = String(b.epoch);
  }
  for (const point of p.points) {
    const x = (point.x[0] - x0) / (x1 - x0) * W, y = (1 - (point.x[1] - y0) / (y1 - y0)) * H;
    g.beginPath(); g.arc(x, y, point.test ? 3.5 : 2.6, 0, 2 * Math.PI);
    const colour = PALETTE[point.class % PALETTE.length];
    if (point.test) { g.strokeStyle = colour; g.lineWidth = 1.5; g.stroke(); }
    else { g.fillStyle = colour; g.fill(); g.strokeStyle = "#fff"; g.lineWidth = 0.5; g.stroke(); }
  }
}

function drawCurves() {
  const loss = [], accuracy = [];
  for (const run of runs) {
    const e = run.progress.epochs;
    loss.push({ name: "train · " + run.label, colour: run.colour, points: e.map(r => [r.epoch, r.train_loss]) });
    if (e.some(r => r.validation_loss !== null && r.validation_loss !== undefined))
      loss.push({ name: "validation", colour: run.colour, dash: true, points: e.map(r => [r.epoch, r.validation_loss]) });
    accuracy.push({ name: "train · " + run.label, colour: run.colour, points: e.map(r => [r.epoch, r.train_accuracy]) });
    if (e.some(r => r.validation_accuracy !== null && r.validation_accuracy !== undefined))
      accuracy.push({ name: "validation", colour: run.colour, dash: true, points: e.map(r => [r.epoch, r.validation_accuracy]) });
  }
  drawChart($("loss-curve"), "loss", loss);
  drawChart($("accuracy-curve"), "accuracy", accuracy);
}

setUp();
