// Recovery forms: show the "which group" and "where" fields only when they apply.
// Kept out of the HTML so the CSP can forbid inline scripts.
(function () {
  function toggle(form) {
    const fellowship = form.querySelector("select[name=fellowship]");
    const other = form.querySelector("[name=fellowship_other]");
    const mode = form.querySelector("input[name=mode]:checked");
    const place = form.querySelector("[name=place]");
    if (fellowship && other) {
      const wrap = other.closest(".mb-3") || other.parentElement;
      wrap.classList.toggle("d-none", fellowship.value !== "other");
    }
    if (mode && place) {
      const wrap = place.closest(".mb-3") || place.parentElement;
      wrap.classList.toggle("d-none", mode.value !== "in_person");
    }
  }
  document.querySelectorAll("form").forEach((form) => {
    if (!form.querySelector("[name=held_at]")) return;
    toggle(form);
    form.addEventListener("change", () => toggle(form));
  });
})();
