// The submission form: a live character count under each long field, and focus on
// the list of problems when the form comes back with errors. The limits themselves
// are enforced by maxlength and by the server; this only shows them.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  document.querySelectorAll("[data-counter]").forEach(function (counter) {
    var field = document.getElementById(counter.dataset.counter);
    if (!field) return;
    var limit = field.maxLength;
    function update() {
      var number = field.value.length;
      counter.textContent = counter.dataset.format
        .replace("{number}", number)
        .replace("{limit}", limit);
      counter.classList.toggle("near-limit", number > limit * 0.9);
    }
    field.addEventListener("input", update);
    update();
  });
})();
