// Live filtering: apply the filter panel and the sort order as soon as they change.
// Without JavaScript the same forms work with their buttons. After each load, only the
// parts of the page marked `data-swap` or `data-live` are replaced (the search box is
// left alone, so what a person is typing stays as it is), the focus goes back where it
// was, and "filters:loaded" tells the map and the language links.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var results = document.getElementById("results");
  var filters = document.getElementById("filters");
  if (!results || !filters) return;
  var pending = null;
  var SHORT = 8; // options a long facet shows before "Show all"
  var facetState = {}; // per facet: shown in full, and the text typed to find an option

  function swap(page) {
    document.querySelectorAll("[data-swap], [data-live]").forEach(function (part) {
      var replacement = part.id && page.getElementById(part.id);
      if (replacement && part.innerHTML !== replacement.innerHTML) part.innerHTML = replacement.innerHTML;
    });
    results.innerHTML = page.getElementById("results").innerHTML;
    var sort = page.getElementById("sort-value");
    if (sort && filters.elements.sort) filters.elements.sort.value = sort.value;
    document.title = page.title;
  }

  function load(url, push, toResults) {
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(url, { signal: pending.signal, headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var focused = document.activeElement && document.activeElement.id;
        swap(page);
        if (!push) {
          // Back or forward: the search box shows the search of that address.
          var q = page.getElementById("q");
          if (q && filters.elements.q) filters.elements.q.value = q.value;
        }
        enhanceFacets();
        if (toResults) {
          // A page of results or a removed filter: the count, the chips and the list.
          results.scrollIntoView();
          var items = document.getElementById("result-items");
          if (items) items.focus({ preventScroll: true });
        } else if (focused && document.activeElement !== document.getElementById(focused)) {
          var again = document.getElementById(focused);
          if (again) again.focus();
        }
        if (push) history.pushState(null, "", url);
        document.dispatchEvent(new CustomEvent("filters:loaded"));
      })
      .catch(function (error) { if (error.name !== "AbortError") window.location = url; });
  }

  function query(form) {
    var params = new URLSearchParams(new FormData(form));
    Array.from(params.keys()).forEach(function (key) {
      if (!params.getAll(key).some(Boolean)) params.delete(key);
    });
    return "?" + params.toString();
  }

  function isTyped(field) {
    return field.tagName === "INPUT" && (field.type === "search" || field.type === "text");
  }

  document.addEventListener("change", function (event) {
    if (event.target.form !== filters) return;
    // Typing is sent by Enter or the Search button (one request), not on leaving the box.
    if (isTyped(event.target)) return;
    load(query(filters), true);
  });
  filters.addEventListener("submit", function (event) {
    event.preventDefault();
    load(query(filters), true);
  });
  window.addEventListener("popstate", function () { load(window.location.href, false); });
  // Links within the results to another view of them (pages, chips, ways out of an empty
  // list) load in place too, and take the focus to the results.
  results.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='?']");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
    event.preventDefault();
    load(link.getAttribute("href"), true, true);
  });

  // Small screens: the facets fold away behind "Filter (n)", which waits at the foot of the
  // screen after the results; opened, the panel comes up from there.
  var toggle = document.getElementById("filter-toggle");
  var panel = document.getElementById("facet-panel");
  if (toggle && panel) {
    toggle.hidden = false;
    filters.classList.add("collapsible");
    function open(yes) {
      panel.classList.toggle("open", yes);
      toggle.setAttribute("aria-expanded", String(yes));
      if (yes) toggle.scrollIntoView({ block: "start" });
    }
    toggle.addEventListener("click", function () {
      open(toggle.getAttribute("aria-expanded") !== "true");
    });
    panel.addEventListener("click", function (event) {
      if (!event.target.closest(".show-results")) return;
      open(false);
      // The count and the chosen filters at the top of the screen, the focus on the list.
      results.scrollIntoView();
      var items = document.getElementById("result-items");
      if (items) items.focus({ preventScroll: true });
      else toggle.focus();
    });
  }

  // Long facets: the options with most cases first, "Show all", and a box to find one.
  function enhanceFacets() {
    filters.querySelectorAll("fieldset.facet[data-options]").forEach(function (facet) {
      var items = Array.from(facet.querySelectorAll("li[data-count]"));
      var more = facet.querySelector(".facet-more");
      if (items.length <= SHORT || !more) return;
      var state = facetState[facet.id] || (facetState[facet.id] = { all: false, find: "" });
      var top = items.slice().sort(function (a, b) { return b.dataset.count - a.dataset.count; })
        .slice(0, SHORT);
      var find = more.querySelector("input");
      var button = more.querySelector("button");
      more.hidden = false;
      find.value = state.find;
      function show() {
        var text = state.find.trim().toLocaleLowerCase();
        items.forEach(function (item) {
          var wanted = text
            ? item.textContent.toLocaleLowerCase().indexOf(text) !== -1
            : state.all || top.indexOf(item) !== -1 || item.querySelector("input:checked");
          item.hidden = !wanted;
        });
        button.setAttribute("aria-expanded", String(state.all));
        button.hidden = Boolean(text);
        button.textContent = state.all ? button.dataset.less : button.dataset.all;
      }
      find.addEventListener("input", function () { state.find = find.value; show(); });
      find.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
      button.addEventListener("click", function () { state.all = !state.all; show(); });
      show();
    });
  }
  enhanceFacets();
})();
