/* 高新通: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  // Typeahead lists: arrow keys move between the input and the suggestions, Escape closes them.
  document.addEventListener("keydown", function (event) {
    var input = event.target.closest ? event.target.closest("[data-typeahead]") : null;
    var box = input ? document.getElementById(input.getAttribute("aria-controls")) : null;
    var option = event.target.closest ? event.target.closest("[data-typeahead-list] a, [data-typeahead-list] button") : null;
    if (input && box) {
      if (event.key === "ArrowDown") {
        var first = box.querySelector("a, button");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape" && box.hasAttribute("data-typeahead-list")) {
        box.innerHTML = "";  // a suggestion list closes; a page of search results stays
      }
      return;
    }
    if (option) {
      var list = option.closest("[data-typeahead-list]");
      var options = Array.prototype.slice.call(list.querySelectorAll("a, button"));
      var index = options.indexOf(option);
      if (event.key === "ArrowDown" && index < options.length - 1) {
        event.preventDefault(); options[index + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (index > 0) { options[index - 1].focus(); }
        else {
          var owner = document.querySelector("[aria-controls='" + list.id + "']");
          if (owner) { owner.focus(); }
        }
      } else if (event.key === "Escape") {
        list.innerHTML = "";
      }
    }
  });

  // Picking a suggestion for a form field: fill the hidden id and the visible text, close the list.
  document.addEventListener("click", function (event) {
    var pick = event.target.closest ? event.target.closest("[data-pick-target]") : null;
    if (!pick) { return; }
    var target = document.getElementById(pick.getAttribute("data-pick-target"));
    var label = document.getElementById(pick.getAttribute("data-pick-label"));
    if (!target) { return; }
    event.preventDefault();
    target.value = pick.getAttribute("data-pick-value");
    target.dispatchEvent(new Event("change", { bubbles: true }));
    if (label) { label.value = pick.getAttribute("data-pick-text"); }
    var list = pick.closest("[data-typeahead-list]");
    if (list) { list.innerHTML = ""; }
    if (label) { label.focus(); }
  });

  // Buttons that ask before they act (data-confirm), without inline script.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  // Disable a submit button while its form is in flight: a double click sends one request.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-hx-post") || form.hasAttribute("hx-post") || form.hasAttribute("data-no-disable")) { return; }
    window.setTimeout(function () {
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
        b.disabled = true;
      });
    }, 0);
  });
})();

// htmx: a refused action (409) or a form with errors (422) comes back as HTML meant to replace the
// row or panel, so swap it instead of dropping it as an error.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr && event.detail.xhr.status;
  if (status === 409 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

/* After an in-place update, keep keyboard users where they were: focus the message the swap brought
   (or the swapped region's heading), and tell screen readers whether a suggestion list is open. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !document.body.contains(target)) {
      target = document.getElementById(event.detail && event.detail.target && event.detail.target.id) || null;
    }
    if (!target) { return; }
    var list = target.matches && target.matches("[data-typeahead-list]") ? target : null;
    if (list) {
      var owner = document.querySelector("[aria-controls='" + list.id + "']");
      if (owner) { owner.setAttribute("aria-expanded", list.children.length ? "true" : "false"); }
      return;
    }
    if (event.detail.requestConfig && event.detail.requestConfig.verb === "get") { return; }
    var focusable = target.querySelector("[role=alert], [role=status], h1, h2");
    if (focusable) {
      if (!focusable.hasAttribute("tabindex")) { focusable.setAttribute("tabindex", "-1"); }
      focusable.focus({ preventScroll: false });
    }
  });
  document.addEventListener("click", function (event) {
    var pick = event.target.closest ? event.target.closest("[data-pick-target]") : null;
    if (!pick) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-typeahead][aria-expanded=true]"), function (input) {
      input.setAttribute("aria-expanded", "false");
    });
  });
})();

// A live region (the inbox polls every 2 s) does not poll from a tab nobody looks at: the next tick
// after the tab is shown again brings it up to date.
document.addEventListener("htmx:beforeRequest", function (event) {
  var elt = event.detail && event.detail.elt;
  if (document.hidden && elt && elt.id === "inbox-live") { event.preventDefault(); }
});
