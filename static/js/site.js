// The language links follow the address bar when a page changes it in place
// (live filtering, going back, moving the map), so they keep the filters and the view.
(function () {
  function follow() {
    document.querySelectorAll(".language a").forEach(function (link) {
      var url = new URL(link.href);
      url.search = window.location.search;
      link.href = url.pathname + url.search;
    });
  }
  ["popstate", "filters:loaded", "map:moved"].forEach(function (name) {
    (name === "popstate" ? window : document).addEventListener(name, follow);
  });
  // A skip link moves the focus at once, without changing the address.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".skip-link");
    var target = link && document.getElementById(link.hash.slice(1));
    if (!target) return;
    event.preventDefault();
    target.focus();
  });
  // And at the moment one is used, whatever changed the address before.
  ["focusin", "pointerdown", "click"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (event.target.closest && event.target.closest(".language a")) follow();
    }, true);
  });
})();
