// Backup codes page: print and copy buttons (kept out of the HTML for the CSP).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print-page]")) {
    window.print();
    return;
  }
  const copy = event.target.closest("[data-copy-codes]");
  if (!copy) return;
  const list = document.querySelector(copy.dataset.copyCodes);
  const codes = Array.from(list.querySelectorAll("[data-testid=backup-code]"), (el) => el.textContent);
  navigator.clipboard.writeText(codes.join("\n")).then(() => {
    copy.textContent = copy.dataset.copiedLabel;
  });
});
