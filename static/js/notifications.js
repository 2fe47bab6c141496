// Notifications outbox: changing a filter applies it at once (the Filter button
// stays for keyboard users and when JavaScript is off).
document.addEventListener("change", (event) => {
  const select = event.target.closest("form[method=get] select");
  if (select && select.form) select.form.requestSubmit();
});
