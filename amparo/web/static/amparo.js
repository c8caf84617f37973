// Amparo's only script. Every page works without it; it adds two conveniences:
// 1. a filter box above long <select> lists (vocabularies with dozens of codes);
// 2. a confirmation before destructive forms (data-confirm).
// (Distressing content is blurred and revealed by CSS alone: macros.html, sensitive.)
(function () {
  "use strict";

  function filterable(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-filter";
    box.setAttribute("aria-label", select.dataset.filterLabel || "Filter");
    box.placeholder = select.dataset.filterLabel || "";
    box.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var needle = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option) {
        var hay = (option.textContent + " " + option.value).toLowerCase();
        option.hidden = needle !== "" && hay.indexOf(needle) === -1 && !option.selected;
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-filterable]").forEach(filterable);
  });
})();
