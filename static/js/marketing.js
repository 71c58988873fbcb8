// Marketing pages: the campaign form shows only the chosen target's field, and the results
// page draws its charts. No inline scripts: everything hangs on data-* attributes.
(() => {
  "use strict";

  // ---------------------------------------------------------------- campaign form
  const form = document.querySelector("[data-campaign-form]");
  if (form) {
    const radios = form.querySelectorAll("input[name=target_kind]");
    const show = () => {
      const checked = form.querySelector("input[name=target_kind]:checked");
      const kind = checked ? checked.value : "";
      form.querySelectorAll("[data-target-field]").forEach((box) => {
        box.hidden = kind !== "" && box.dataset.targetField !== kind;
      });
    };
    radios.forEach((radio) => radio.addEventListener("change", show));
    show();
  }

  // ---------------------------------------------------------------- results charts
  const chartData = document.getElementById("marketing-charts");
  if (chartData && window.Chart) {
    const charts = JSON.parse(chartData.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const spec = charts[canvas.dataset.chart];
      if (!spec) return;
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true } },
        },
      });
    });
  }
})();
