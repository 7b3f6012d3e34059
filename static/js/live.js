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

// A message about an operation ("Backup requested…", views._operation_message) is news only while
// the operation runs: once the page no longer lists it as running (a fresh fragment swapped in,
// or the page opened after it ended), the message goes, and an emptied list with it.
function dropFinishedMessages() {
  document.querySelectorAll("li[data-operation]").forEach(function (item) {
    var running = '[data-running="' + CSS.escape(item.dataset.operation) + '"]';
    if (!document.querySelector(running)) {
      var list = item.parentNode;
      item.remove();
      if (list && !list.children.length) {
        list.remove();
      }
    }
  });
}
document.addEventListener("DOMContentLoaded", dropFinishedMessages);
document.addEventListener("htmx:afterSettle", dropFinishedMessages);
