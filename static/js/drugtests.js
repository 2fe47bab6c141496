// Drug testing pages: submit the site picker on change; show validity guidance when the
// temperature is out of range (the server enforces the rule either way); on the result
// form, show the laboratory's name only for a laboratory result (without this script it
// is always shown, and the server drops it from a cup's result).
(function () {
  "use strict";
  document.querySelectorAll("form.js-autosubmit select").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  var temp = document.getElementById("id_temperature_in_range");
  var validity = document.getElementById("id_validity");
  if (temp && validity) {
    var sync = function () {
      validity.required = temp.value === "no";
      validity.classList.toggle("border-danger", temp.value === "no" && !validity.value);
    };
    temp.addEventListener("change", sync);
    validity.addEventListener("change", sync);
    sync();
  }
  var sources = document.querySelectorAll("input[type=radio][name=source]");
  var labOnly = document.querySelectorAll(".js-lab-only");
  if (sources.length && labOnly.length) {
    var showLab = function () {
      var checked = document.querySelector("input[type=radio][name=source]:checked");
      var lab = !checked || checked.value === "lab";
      labOnly.forEach(function (el) { el.hidden = !lab; });
    };
    sources.forEach(function (el) { el.addEventListener("change", showLab); });
    showLab();
  }
})();
