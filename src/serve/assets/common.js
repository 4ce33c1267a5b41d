// Shared by the three pages: JSON requests and line charts on a canvas.
"use strict";

const PALETTE = ["#2f5fb3", "#d9822b", "#1b8a5a", "#b3261e", "#7b4fb3", "#8c6d1f", "#2a9bb3", "#c2185b"];

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  const text = await response.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
  return { ok: response.ok, status: response.status, data };
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Fills a <select> with `names`, after a first blank option labelled `blank` when given.
function fillSelect(select, names, blank) {
  select.replaceChildren();
  if (blank) select.append(element("option", { value: "" }, blank));
  for (const name of names) select.append(element("option", { value: name }, name));
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined) return "NaN";
  if (typeof value !== "number") return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return value.toFixed(digits);
}

// Draws series [{name, colour, dash, points: [[x, y], ...]}] (y null = NaN, drawn as a gap
// and marked) with axes; records the longest series' length in data-points.
function drawChart(canvas, title, series, yLabel) {
  const g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, left = 52, right = 10, top = 24, bottom = 30;
  g.clearRect(0, 0, W, H);
  g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
  g.fillStyle = "#1d2330"; g.font = "13px system-ui, sans-serif"; g.fillText(title, left, 15);
  const all = series.flatMap(s => s.points);
  const finite = all.filter(p => p[1] !== null && Number.isFinite(p[1]));
  canvas.dataset.points = String(Math.max(0, ...series.map(s => s.points.length)));
  if (all.length === 0) return;
  let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
  if (x1 === x0) x1 = x0 + 1;
  let y0 = finite.length ? Math.min(...finite.map(p => p[1])) : 0;
  let y1 = finite.length ? Math.max(...finite.map(p => p[1])) : 1;
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
  const X = x => left + (x - x0) / (x1 - x0) * (W - left - right);
  const Y = y => top + (1 - (y - y0) / (y1 - y0)) * (H - top - bottom);
  g.strokeStyle = "#d9dde5"; g.lineWidth = 1; g.beginPath();
  g.moveTo(left, top); g.lineTo(left, H - bottom); g.lineTo(W - right, H - bottom); g.stroke();
  g.fillStyle = "#5b6475"; g.font = "11px system-ui, sans-serif";
  const digits = Math.min(6, Math.max(0, Math.ceil(-Math.log10((y1 - y0) / 4)) + 1));
  for (let k = 0; k <= 4; k++) {
    const y = y0 + (y1 - y0) * k / 4;
    g.fillText(y.toFixed(digits), 2, Y(y) + 4);
  }
  g.fillText("epoch " + Math.round(x0), left, H - 10);
  g.fillText(String(Math.round(x1)), W - right - 24, H - 10);
  if (yLabel) g.fillText(yLabel, left + 4, top + 10);
  series.forEach(s => {
    g.strokeStyle = s.colour; g.lineWidth = 2; g.setLineDash(s.dash ? [5, 4] : []);
    g.beginPath();
    let drawing = false, firstNaN = null;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        // NaN: a red tick on the top edge, and one label where it starts.
        drawing = false;
        if (firstNaN === null) firstNaN = x;
        g.save(); g.strokeStyle = "#b3261e"; g.setLineDash([]); g.beginPath();
        g.moveTo(X(x), top); g.lineTo(X(x), top + 8); g.stroke(); g.restore();
        continue;
      }
      if (drawing) g.lineTo(X(x), Y(y)); else g.moveTo(X(x), Y(y));
      drawing = true;
    }
    g.stroke(); g.setLineDash([]);
    if (firstNaN !== null && !s.dash) {
      g.fillStyle = "#b3261e"; g.fillText("NaN from epoch " + firstNaN, X(firstNaN) + 2, top + 20);
    }
  });
  // The legend, on a white box in the top right corner.
  const width = Math.min(190, Math.max(...series.map(s => g.measureText(s.name).width)) + 24);
  g.fillStyle = "rgba(255, 255, 255, 0.85)";
  g.fillRect(W - right - width - 4, top - 2, width + 4, 14 * series.length + 6);
  series.forEach((s, n) => {
    g.fillStyle = s.colour; g.fillRect(W - right - width, top + 4 + 14 * n, 10, 3);
    g.fillStyle = "#1d2330"; g.fillText(s.name.slice(0, 30), W - right - width + 14, top + 9 + 14 * n);
  });
}
