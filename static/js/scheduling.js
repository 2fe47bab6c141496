// Scheduling: attendance rows. An absence has no arrival or departure time, so those
// inputs are disabled while an absence is selected (the server enforces it too).
(function () {
  const ABSENT = new Set(["excused", "unexcused"]);
  function sync(select) {
    const row = select.closest(".attendance-row");
    if (!row) return;
    row.querySelectorAll("input[type=time]").forEach((input) => {
      input.disabled = ABSENT.has(select.value);
    });
  }
  function init(root) {
    root.querySelectorAll("select[data-attendance-status]").forEach(sync);
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("select[data-attendance-status]")) sync(event.target);
  });
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSwap", (event) => init(event.target.parentElement || document));
})();
