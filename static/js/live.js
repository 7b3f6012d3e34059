// Live fragments (data-live) poll every 2 s with htmx. While the tab is hidden their requests are
// cancelled, so a forgotten tab costs the server nothing; the "visibilitychange" trigger on the
// same elements then refreshes them as soon as the tab is shown again.
// This is done here rather than with an hx-trigger filter ("every 2s [document.visibilityState
// === 'visible']") because htmx evaluates filters with eval, which a strict CSP forbids.
document.addEventListener("htmx:beforeRequest", function (event) {
  var element = event.detail.elt;
  if (element && element.hasAttribute("data-live") && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});
