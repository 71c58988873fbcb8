// Service desk behaviour, hung on data-* attributes (no inline scripts).
(() => {
  // Insert text at the cursor of a textarea (or append), then focus it.
  function insertInto(selector, text) {
    const area = document.querySelector(selector);
    if (!area) return;
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.focus();
    area.selectionStart = area.selectionEnd = start + text.length;
    area.scrollIntoView({ block: "center" });
  }

  // "Select all" checkbox of the queue.
  document.addEventListener("change", (event) => {
    const all = event.target.closest("[data-check-all]");
    if (all) {
      const name = all.dataset.checkAll;
      document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
        box.checked = all.checked;
      });
      return;
    }
    // Canned replies: fill in {customer}, {agent} and {ticket}, insert into the reply.
    const select = event.target.closest("[data-canned-into]");
    if (select && select.value) {
      const option = select.selectedOptions[0];
      const text = (option.dataset.body || "")
        .replaceAll("{customer}", select.dataset.customer || "")
        .replaceAll("{agent}", select.dataset.agent || "")
        .replaceAll("{ticket}", select.dataset.ticket || "");
      insertInto(select.dataset.cannedInto, text);
      select.value = "";
    }
  });

  // Suggested answers: copy an answer into the reply or the solution.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-use-answer]");
    if (button) {
      event.preventDefault();
      insertInto(button.dataset.useAnswer, button.dataset.answer || "");
    }
  });

  // Satisfaction by month: CSAT % and NPS as lines, answers as bars.
  document.querySelectorAll("[data-satisfaction-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.satisfactionChart);
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: data.csat_label, data: data.csat, yAxisID: "y", tension: 0.2 },
          { type: "line", label: data.nps_label, data: data.nps, yAxisID: "y", tension: 0.2 },
        ],
      },
      options: {
        responsive: true,
        interaction: { mode: "index", intersect: false },
        scales: { y: { suggestedMin: -100, suggestedMax: 100 } },
      },
    });
  });
})();
