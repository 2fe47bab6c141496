// Dashboard pages. Loaded as a file: the CSP forbids inline handlers.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
