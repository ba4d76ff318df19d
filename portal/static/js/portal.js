// Every htmx request carries the CSRF token (Flask-WTF checks X-CSRFToken).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// A refused panel submission answers 422 with the panel re-rendered (errors inline, typed values
// kept): htmx 2 does not swap 4xx responses by default, so let this one through.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr && event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A form sent back with its errors (a whole page: role=alert above the fields): start the
// keyboard, and the screen reader, at the first field to correct rather than at the top of the
// page; the field's own error is read with it (aria-describedby).
document.addEventListener("DOMContentLoaded", function () {
  if (document.activeElement && document.activeElement !== document.body) { return; }
  if (document.querySelector("[autofocus]")) { return; }
  var first = document.querySelector(
    "form .has-error input:not([type=hidden]), form .has-error select, form .has-error textarea, " +
    "form [aria-invalid='true']"
  );
  if (first) { first.focus(); }
});

// A swap that replaces the focused element (a sort or pager link inside the queue table, a view
// tab in a polled list) must not drop the focus to <body>, where Tab starts again at the top of
// the page. htmx puts it back on an element with the same id; when there is none, it goes to the
// swapped region, so that Tab continues from there.
var focusBeforeSwap = null;
document.addEventListener("htmx:beforeSwap", function () {
  focusBeforeSwap = document.activeElement;
});
document.addEventListener("htmx:afterSwap", function (event) {
  var lost = focusBeforeSwap;
  focusBeforeSwap = null;
  if (!lost || lost === document.body || lost.isConnected) { return; }
  if (document.activeElement && document.activeElement !== document.body) { return; }
  var region = event.detail.target;
  if (region && !region.isConnected && region.id) { region = document.getElementById(region.id); }
  if (!region || region === document.body || !region.isConnected) { return; }
  if (!region.hasAttribute("tabindex")) { region.setAttribute("tabindex", "-1"); }
  region.focus({ preventScroll: true });
});

// The staff request page refreshes its other panels out of band after a delivery action
// (portal:request-changed): text typed but not yet sent in those panels (a reply, a step) is
// carried over into the fresh panels instead of being lost.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var target = event.detail.target;
  var fragment = event.detail.fragment;
  if (!target || !fragment || !fragment.querySelector) { return; }
  target.querySelectorAll("textarea[id], input[id]:not([type]), input[id][type=text]").forEach(function (old) {
    if (!old.value || old.value === old.defaultValue) { return; }
    var fresh = fragment.querySelector("#" + CSS.escape(old.id));
    if (!fresh || fresh.tagName !== old.tagName || fresh.value) { return; }
    if (fresh.tagName === "TEXTAREA") { fresh.textContent = old.value; }
    fresh.value = old.value;
  });
});

// The printable forms' Print button (no inline handler: the pages run under a strict CSP).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
});
