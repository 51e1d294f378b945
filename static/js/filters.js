// Live filtering: apply the filter panel and the sort order as soon as they change.
// Without JavaScript the same forms work with their submit buttons. Other parts of a
// page marked `data-live` are refreshed too, and "filters:loaded" tells the map.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var results = document.getElementById("results");
  var filters = document.getElementById("filters");
  if (!results || !filters) return;
  var pending = null;

  function load(url, push) {
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(url, { signal: pending.signal, headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        results.innerHTML = page.getElementById("results").innerHTML;
        document.querySelectorAll("[data-live]").forEach(function (part) {
          var replacement = page.getElementById(part.id);
          if (replacement) part.innerHTML = replacement.innerHTML;
        });
        var fresh = page.getElementById("filters");
        var focused = document.activeElement && document.activeElement.id;
        filters.innerHTML = fresh.innerHTML;
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
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

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !(form === filters || form.classList.contains("sort"))) return;
    if (form !== filters) filters.elements.sort.value = form.elements.sort.value;
    load(query(filters), true);
  });
  filters.addEventListener("submit", function (event) {
    event.preventDefault();
    load(query(filters), true);
  });
  window.addEventListener("popstate", function () { load(window.location.href, false); });
})();
