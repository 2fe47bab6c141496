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

// A table wider than its box (Bootstrap's .table-responsive scrolls it sideways) must be
// reachable by keyboard to be scrolled (WCAG 2.1.1, axe's scrollable-region-focusable):
// while it overflows, the box is a focusable region named after the table's caption or
// the heading of the section it sits in. Checked again when the window changes size.
function scrollableName(box) {
  const caption = box.querySelector("caption");
  if (caption && caption.textContent.trim()) return caption.textContent.trim();
  const label = box.querySelector("table[aria-label]");
  if (label) return label.getAttribute("aria-label");
  for (let node = box; node && node !== document.body; node = node.parentElement) {
    const heading = node.querySelector("h1, h2, h3, h4, h5, .card-header");
    if (heading && !box.contains(heading) && heading.textContent.trim()) {
      return heading.textContent.trim().replace(/\s+/g, " ").slice(0, 80);
    }
  }
  return "Table";
}
function markScrollable(box) {
  const scrolls = box.scrollWidth > box.clientWidth + 1;
  if (scrolls && !box.hasAttribute("tabindex")) {
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", `${scrollableName(box)} (scrolls sideways)`);
    box.dataset.scrollRegion = "";
  } else if (!scrolls && "scrollRegion" in box.dataset) {
    ["tabindex", "role", "aria-label", "data-scroll-region"].forEach((a) => box.removeAttribute(a));
  }
}
function markScrollables(root) {
  root.querySelectorAll(".table-responsive").forEach(markScrollable);
}
document.addEventListener("htmx:load", (event) => markScrollables(event.detail.elt));
let scrollablesPending = false;
window.addEventListener("resize", () => {
  if (scrollablesPending) return;
  scrollablesPending = true;
  requestAnimationFrame(() => { scrollablesPending = false; markScrollables(document); });
});
markScrollables(document);
