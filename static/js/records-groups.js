// The sign-in sheet's Print button (kept out of the HTML: the CSP forbids inline scripts).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
