// Customer pages: "tick all" on the list, and the bulk form showing only the value field
// of the chosen action. No inline scripts (strict CSP): behaviour hangs on data-* attributes.
(() => {
  const selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.addEventListener("change", () => {
      document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach((box) => {
        box.checked = selectAll.checked;
      });
    });
  }
  const bulk = document.querySelector("[data-bulk-form]");
  if (bulk) {
    const action = bulk.querySelector('select[name="action"]');
    const sync = () => {
      bulk.querySelectorAll("[data-bulk-value]").forEach((box) => {
        box.hidden = box.dataset.bulkValue !== action.value;
      });
    };
    action.addEventListener("change", sync);
    sync();
  }
})();
