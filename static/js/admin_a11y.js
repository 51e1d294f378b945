// Names and roles that Django's admin widgets leave out, for screen readers: the
// autocomplete boxes (Select2) and the two-list picker (SelectFilter2) are built by
// scripts, so they are mended after they are built, and again whenever they redraw.
(function () {
  "use strict";

  function labelFor(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    if (!label) return null;
    if (!label.id) label.id = select.id + "_label";
    return label;
  }

  function mend() {
    // The picker's magnifying glass is a span with a name but no role.
    document.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = labelFor(select);
      var box = select.nextElementSibling;
      if (!label || !box || !box.classList.contains("select2")) return;
      var name = label.textContent.replace(/:\s*$/, "").trim();
      var combo = box.querySelector(".select2-selection");
      var rendered = box.querySelector(".select2-selection__rendered");
      if (combo) {
        var others = (combo.getAttribute("aria-labelledby") || "").split(" ").filter(function (id) {
          return id && id !== label.id && document.getElementById(id);
        });
        combo.setAttribute("aria-labelledby", [label.id].concat(others).join(" "));
      }
      if (rendered && rendered.getAttribute("role") === "textbox") rendered.setAttribute("aria-label", name);
      if (rendered && rendered.tagName === "UL") rendered.setAttribute("role", "list");
      var search = box.querySelector(".select2-search__field");
      if (search && !search.getAttribute("aria-label")) search.setAttribute("aria-label", name);
    });
  }

  var waiting = false;
  function soon() {
    if (waiting) return;
    waiting = true;
    window.requestAnimationFrame(function () { waiting = false; mend(); });
  }
  window.addEventListener("load", function () {
    mend();
    new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
  });
})();
