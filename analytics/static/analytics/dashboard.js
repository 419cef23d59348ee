// The ops dashboard: polls the data endpoint and draws each panel as inline SVG (no library, no CDN).
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 600, HEIGHT = 200, LEFT = 44, RIGHT = 34, TOP = 10, BOTTOM = 28;
  const root = document.getElementById("dashboard");
  const source = root.dataset.source;
  const refreshMs = Number(root.dataset.refreshSeconds) * 1000;

  function el(name, attrs, parent, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function compact(value) {
    if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
    if (value >= 1e4) return Math.round(value / 1e3) + "k";
    return String(Math.round(value * 100) / 100);
  }

  // Bars for `values`, labelled below every `labelEvery`; an optional line (0..1) on a right-hand axis.
  function barChart(svg, labels, values, options) {
    const opts = Object.assign({labelEvery: 1, line: null, lineLabel: ""}, options || {});
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    const plotWidth = WIDTH - LEFT - RIGHT, plotHeight = HEIGHT - TOP - BOTTOM;
    const max = Math.max(1, ...values);
    const step = plotWidth / Math.max(values.length, 1);
    el("line", {class: "axis", x1: LEFT, y1: TOP + plotHeight, x2: LEFT + plotWidth, y2: TOP + plotHeight}, svg);
    el("text", {x: LEFT - 4, y: TOP + 8, "text-anchor": "end"}, svg, compact(max));
    el("text", {x: LEFT - 4, y: TOP + plotHeight, "text-anchor": "end"}, svg, "0");
    let drawn = 0;
    values.forEach((value, index) => {
      const height = (value / max) * plotHeight;
      const x = LEFT + index * step;
      if (value > 0) {
        const bar = el("rect", {class: "bar", x: x + step * 0.1, y: TOP + plotHeight - height,
                                width: Math.max(step * 0.8, 1), height: Math.max(height, 1)}, svg);
        el("title", {}, bar, `${labels[index]}: ${value}`);
        drawn += 1;
      }
      if (index % opts.labelEvery === 0) {
        el("text", {x: x + step / 2, y: HEIGHT - 8, "text-anchor": "middle"}, svg, labels[index]);
      }
    });
    if (opts.line) {
      const points = opts.line.map((rate, index) =>
        `${LEFT + index * step + step / 2},${TOP + plotHeight - Math.min(rate, 1) * plotHeight}`);
      el("polyline", {class: "line", points: points.join(" ")}, svg);
      el("text", {x: WIDTH - 2, y: TOP + 8, "text-anchor": "end"}, svg, "100%");
      el("text", {x: WIDTH - 2, y: TOP + plotHeight, "text-anchor": "end"}, svg, opts.lineLabel);
    }
    svg.dataset.points = String(drawn);
    svg.dataset.drawn = "1";
  }

  const hourLabel = (iso) => iso.slice(11, 13) + "h";
  const dayLabel = (iso) => iso.slice(5, 10);

  function draw(data) {
    const statuses = Object.keys(data.batches_by_status);
    barChart(document.getElementById("chart-batches"), statuses, statuses.map((s) => data.batches_by_status[s]));
    barChart(document.getElementById("chart-fill"),
      data.open_fill_histogram.map((bin) => `${bin.from_percent}%`),
      data.open_fill_histogram.map((bin) => bin.batches));
    barChart(document.getElementById("chart-orders"),
      data.orders_per_hour.map((row) => hourLabel(row.hour)), data.orders_per_hour.map((row) => row.orders),
      {labelEvery: 6});
    barChart(document.getElementById("chart-units"),
      data.orders_per_hour.map((row) => hourLabel(row.hour)), data.orders_per_hour.map((row) => row.units),
      {labelEvery: 6});
    barChart(document.getElementById("chart-jobs"),
      data.jobs_per_hour.map((row) => hourLabel(row.hour)), data.jobs_per_hour.map((row) => row.runs),
      {labelEvery: 2, line: data.jobs_per_hour.map((row) => row.error_rate), lineLabel: "errors"});
    barChart(document.getElementById("chart-daily-orders"),
      data.daily.map((row) => dayLabel(row.day)), data.daily.map((row) => row.orders), {labelEvery: 5});
    barChart(document.getElementById("chart-daily-revenue"),
      data.daily.map((row) => dayLabel(row.day)), data.daily.map((row) => Number(row.revenue)), {labelEvery: 5});

    document.getElementById("fig-review-length").textContent = data.review_queue.length;
    document.getElementById("fig-review-oldest").textContent =
      data.review_queue.oldest_age_hours === null ? "–" : data.review_queue.oldest_age_hours;
    document.getElementById("fig-open-batches").textContent = data.batches_by_status.open;

    const body = document.querySelector("#failures tbody");
    body.replaceChildren();
    for (const failure of data.recent_failures) {
      const row = body.insertRow();
      for (const text of [failure.finished_at.replace("T", " ").slice(0, 19), failure.task_name,
                          failure.error, failure.correlation_id]) {
        row.insertCell().textContent = text;
      }
    }
    if (!data.recent_failures.length) body.insertRow().insertCell().textContent = "None.";

    const alerts = document.querySelector("#supplier-alerts tbody");
    alerts.replaceChildren();
    for (const alert of data.supplier_alerts) {
      const row = alerts.insertRow();
      for (const text of [alert.opened_at.replace("T", " ").slice(0, 16), alert.supplier, alert.message]) {
        row.insertCell().textContent = text;
      }
    }
    if (!data.supplier_alerts.length) alerts.insertRow().insertCell().textContent = "None.";
    document.getElementById("dash-updated").textContent = data.generated_at.replace("T", " ").slice(0, 19) + " UTC";
  }

  async function refresh() {
    const error = document.getElementById("dash-error");
    try {
      const response = await fetch(source, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (!response.ok) throw new Error(`the data endpoint answered ${response.status}`);
      draw(await response.json());
      error.textContent = "";
      root.dataset.refreshes = String(Number(root.dataset.refreshes || 0) + 1);
    } catch (exc) {
      error.textContent = `Not refreshed: ${exc.message}`;
    }
  }

  refresh();
  setInterval(refresh, refreshMs);
})();
