// Amparo's only script. Every page works without it; it adds three conveniences:
// 1. "Show" buttons that unblur distressing content in place;
// 2. a filter box above long <select> lists (vocabularies with dozens of codes);
// 3. a confirmation before destructive forms (data-confirm).
(function () {
  "use strict";

  function reveal(button) {
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) { return; }
    var shown = target.classList.toggle("revealed");
    button.setAttribute("aria-expanded", shown ? "true" : "false");
    button.textContent = shown ? button.dataset.hideLabel : button.dataset.showLabel;
  }

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

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-reveal]");
    if (button) { event.preventDefault(); reveal(button); }
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-reveal]").forEach(function (button) {
      button.hidden = false;
    });
    document.querySelectorAll("select[data-filterable]").forEach(filterable);
  });
})();
