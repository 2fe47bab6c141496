// Drug testing pages: submit the site picker on change; show validity guidance when the
// temperature is out of range (the server enforces the rule either way).
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
})();
