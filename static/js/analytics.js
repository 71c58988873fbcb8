// Dashboards: draws every <canvas data-chart="ID"> from the JSON in <script id="ID">, on page
// load and again in each panel htmx swaps in (a filter change, a refresh after a job run).
// No inline scripts: everything hangs on data-* attributes (strict CSP).
(() => {
  "use strict";

  const PALETTE = ["#0d6efd", "#fd7e14", "#6c757d", "#dc3545", "#198754", "#6f42c1"];
  const alpha = (hex, a) => {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  };
  const money = new Intl.NumberFormat(document.documentElement.lang || undefined, {
    maximumFractionDigits: 0,
  });

  const dataset = (ds, type) => {
    const color = PALETTE[(ds.color || 0) % PALETTE.length];
    const out = { label: ds.label, data: ds.data, spanGaps: false };
    if (ds.colors) {
      out.backgroundColor = ds.colors.map((c) => PALETTE[c % PALETTE.length]);
    } else {
      out.backgroundColor = type === "line" ? color : alpha(color, 0.75);
      out.borderColor = color;
    }
    if (type === "radar") {
      out.backgroundColor = alpha(color, 0.15);
      out.pointRadius = 2;
    }
    if (type === "line") {
      out.pointRadius = 2;
      out.borderWidth = 2;
      if (ds.dashed) out.borderDash = [6, 4];
      if (ds.band) {
        // The interval: no line, the upper bound filled down to the lower one.
        out.borderWidth = 0;
        out.pointRadius = 0;
        out.backgroundColor = alpha(color, 0.15);
        if (ds.band === "upper") out.fill = "+1";
      }
    }
    return out;
  };

  const draw = (canvas) => {
    if (canvas.dataset.drawn || !window.Chart) return;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    canvas.dataset.drawn = "1";
    const horizontal = Boolean(spec.horizontal);
    const valueAxis = horizontal ? "x" : "y";
    let scales = { [valueAxis]: { beginAtZero: spec.type !== "line" } };
    if (spec.type === "radar") {
      scales = { r: { beginAtZero: true, suggestedMax: 100, ticks: { display: false } } };
    }
    if (spec.money) scales[valueAxis].ticks = { callback: (v) => money.format(v) };
    if (horizontal) {
      // Long labels (rules "A + B → C") are shortened on the axis; the tooltip has them whole.
      const room = canvas.parentElement.clientWidth < 500 ? 16 : 42;
      scales.y = {
        ticks: {
          autoSkip: false,
          font: { size: 10 },
          callback(value) {
            const label = String(this.getLabelForValue(value));
            return label.length > room ? `${label.slice(0, room - 1)}…` : label;
          },
        },
      };
    }
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets.map((d) => dataset(d, spec.type)) },
      options: {
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: spec.datasets.length > 1, labels: { boxWidth: 12 } },
        },
        scales,
      },
    });
  };

  const drawAll = (root) => {
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  };
  drawAll(document);
  document.body.addEventListener("htmx:load", (event) => drawAll(event.detail.elt));

  // The period select of the KPI tiles applies itself.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();
