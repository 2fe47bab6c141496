// Patients: a select marked data-reload-param reloads the page with its value as that
// query parameter (the intake form limits tracks, phases and counselors to the site).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-reload-param]");
  if (!select) return;
  const url = new URL(window.location.href);
  url.searchParams.set(select.dataset.reloadParam, select.value);
  window.location.assign(url.toString());
});
