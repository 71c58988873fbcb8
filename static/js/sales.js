// Sales pages: drag and drop on the deal board, "add line" on order and deal forms, and
// the report charts. No inline scripts: everything hangs on data-* attributes.
(() => {
  "use strict";

  const csrfToken = () => {
    const meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  };

  // ---------------------------------------------------------------- deal board
  const board = document.querySelector("[data-board]");
  if (board) {
    const alertBox = document.querySelector("[data-board-alert]");
    const dialog = document.querySelector("[data-lost-dialog]");
    let dragged = null;

    const showMessage = (text, ok, link) => {
      if (!alertBox) return;
      alertBox.className = `alert ${ok ? "alert-success" : "alert-danger"}`;
      alertBox.textContent = text;
      if (link) {
        const a = document.createElement("a");
        a.href = link;
        a.className = "alert-link ms-2";
        a.textContent = "→";
        alertBox.append(a);
      }
    };

    const updateHeaders = (columns) => {
      Object.entries(columns || {}).forEach(([stageId, figures]) => {
        const column = board.querySelector(`[data-stage-column="${stageId}"]`);
        if (!column) return;
        column.querySelector("[data-column-count]").textContent = figures.count;
        column.querySelector("[data-column-total]").textContent = figures.total;
      });
    };

    const askLostReason = () =>
      new Promise((resolve) => {
        if (!dialog || typeof dialog.showModal !== "function") {
          resolve(null);
          return;
        }
        const form = dialog.querySelector("[data-lost-form]");
        dialog.addEventListener(
          "close",
          () => {
            resolve(dialog.returnValue === "ok" ? new FormData(form) : null);
          },
          { once: true },
        );
        dialog.showModal();
      });

    const move = async (card, column) => {
      const body = new FormData();
      body.append("stage", column.dataset.stageColumn);
      body.append("owner", board.dataset.owner || "");
      body.append("q", board.dataset.q || "");
      if (column.dataset.outcome === "lost") {
        const extra = await askLostReason();
        if (!extra) return;
        extra.forEach((value, key) => body.append(key, value));
      }
      const origin = card.parentElement;
      const next = card.nextSibling;
      column.querySelector("[data-column-cards]").prepend(card);
      card.classList.add("saving");
      try {
        const response = await fetch(card.dataset.moveUrl, {
          method: "POST",
          body,
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          credentials: "same-origin",
        });
        const data = await response.json();
        if (!response.ok || !data.ok) throw new Error(data.message || response.statusText);
        updateHeaders(data.columns);
        const select = card.querySelector("select[name=stage]");
        if (select) select.value = String(data.stage);
        showMessage(data.message, true, data.order_url);
      } catch (error) {
        origin.insertBefore(card, next); // put the card back where it was
        showMessage(error.message, false);
      } finally {
        card.classList.remove("saving");
      }
    };

    board.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("[data-deal-card]");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.dealCard);
    });
    board.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("dragging");
      board.querySelectorAll(".drop-target").forEach((c) => c.classList.remove("drop-target"));
    });
    board.addEventListener("dragover", (event) => {
      const column = event.target.closest("[data-stage-column]");
      if (!column || !dragged) return;
      event.preventDefault();
      board.querySelectorAll(".drop-target").forEach((c) => c !== column && c.classList.remove("drop-target"));
      column.classList.add("drop-target");
    });
    board.addEventListener("drop", (event) => {
      const column = event.target.closest("[data-stage-column]");
      if (!column || !dragged) return;
      event.preventDefault();
      column.classList.remove("drop-target");
      const card = dragged;
      dragged = null;
      if (card.closest("[data-stage-column]") === column) return;
      move(card, column);
    });
  }

  // ---------------------------------------------------------------- line formsets
  document.querySelectorAll("[data-formset]").forEach((fieldset) => {
    const prefix = fieldset.dataset.formset;
    const total = fieldset.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
    const template = fieldset.querySelector("template[data-formset-empty]");
    const rows = fieldset.querySelector("[data-formset-rows]");
    const button = fieldset.querySelector("[data-formset-add]");
    if (!total || !template || !rows || !button) return;
    button.addEventListener("click", () => {
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  });

  // ---------------------------------------------------------------- report charts
  const chartData = document.getElementById("sales-report-charts");
  if (chartData && window.Chart) {
    const charts = JSON.parse(chartData.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const spec = charts[canvas.dataset.chart];
      if (!spec) return;
      const round = ["pie", "doughnut"].includes(spec.type);
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          maintainAspectRatio: false,
          indexAxis: spec.options.indexAxis || "x",
          plugins: { legend: { display: round || spec.datasets.length > 1 } },
          scales: round ? {} : { y: { beginAtZero: true } },
        },
      });
    });
  }
})();
