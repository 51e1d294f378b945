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
  // A header folded behind "Menu" (the list's): the button opens it, Escape closes it.
  var menu = document.getElementById("menu-toggle");
  var links = document.getElementById("site-menu");
  if (menu && links) {
    menu.hidden = false;
    menu.parentElement.classList.add("folded");
    var openMenu = function (yes) {
      links.classList.toggle("open", yes);
      menu.setAttribute("aria-expanded", String(yes));
    };
    menu.addEventListener("click", function () {
      openMenu(menu.getAttribute("aria-expanded") !== "true");
    });
    links.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      openMenu(false);
      menu.focus();
    });
  }
})();
