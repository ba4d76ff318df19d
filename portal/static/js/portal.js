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
