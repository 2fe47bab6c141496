// Stepwise: behaviour kept out of the HTML so the CSP can forbid inline scripts.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) event.detail.headers["X-CSRFToken"] = token.value;
});
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.dataset.confirm)) event.preventDefault();
});

// "N characters left" under a textarea once its text nears the limit (core.forms.counter_html
// renders the line, with the words it uses here).
function showCharactersLeft(counter) {
  const field = document.getElementById(counter.dataset.counterFor);
  const limit = field && Number(field.getAttribute("maxlength"));
  if (!limit) return;
  const left = limit - field.value.length;
  const words = left === 1 ? counter.dataset.one : counter.dataset.many;
  const text = left > Number(counter.dataset.counterNear) ? ""
    : words ? words.replace("%(left)s", left.toLocaleString("en-US"))
    : `${left.toLocaleString("en-US")} character${left === 1 ? "" : "s"} left`;
  if (counter.textContent !== text) counter.textContent = text;
}
document.addEventListener("input", (event) => {
  if (!event.target.id) return;
  const counter = document.getElementById(`${event.target.id}_left`);
  if (counter && counter.dataset.counterFor) showCharactersLeft(counter);
});
document.addEventListener("htmx:load", (event) => {
  event.detail.elt.querySelectorAll("[data-counter-for]").forEach(showCharactersLeft);
});
document.querySelectorAll("[data-counter-for]").forEach(showCharactersLeft);
