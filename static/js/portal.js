// The portal's small helps, each optional: the page works without them.
(function () {
  "use strict";

  // Calendar link: a Copy button beside the box (shown only where the clipboard works).
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    const input = document.getElementById(button.dataset.copyTarget);
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(
        function () {
          button.textContent = button.dataset.copiedText || label;
          window.setTimeout(function () { button.textContent = label; }, 2500);
        },
        function () {
          input.select(); // no permission: select it so a long press copies it
        }
      );
    });
  });

  // After a form error: bring the first marked field into view and put the cursor there,
  // so a phone user sees what to fix (and the note to choose the photo again).
  const notice = document.querySelector("[data-form-error]");
  if (notice) {
    const form = notice.closest("form") || document;
    const field = form.querySelector(".is-invalid, [aria-invalid='true']");
    const target = field || notice;
    target.scrollIntoView({ block: "center" });
    if (field && typeof field.focus === "function") field.focus({ preventScroll: true });
  }
})();
