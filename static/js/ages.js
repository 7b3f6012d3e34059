// Ages of timestamps ("5 minutes ago"), written in the browser next to every <time data-age>.
// The server renders only the absolute time, so its HTML does not depend on the current time
// (fragments can be cached) and the ages keep counting on a page left open.
// No inline script, eval or inline style anywhere: the site runs under a strict CSP.
(function () {
  "use strict";

  var NBSP = "\u00a0";
  var MINUTE = 60 * 1000;
  var HOUR = 60 * MINUTE;
  var DAY = 24 * HOUR;
  // Calendar-free on purpose: an age is a rough guide, the exact time is shown beside it.
  var MONTH = 30 * DAY;
  var YEAR = 365 * DAY;
  var REFRESH_MS = 30 * 1000;

  function count(n, unit) {
    return n + NBSP + unit + (n === 1 ? "" : "s");
  }

  // Worded like Django's naturaltime in English, which the pages showed before.
  function age(then, now) {
    var delta = now - then;
    var future = delta < 0;
    var span = Math.abs(delta);
    // Within a minute, and clocks that run slightly ahead of the server's, read as "now".
    if (span < MINUTE) {
      return "just now";
    }
    var text;
    if (span < HOUR) {
      text = count(Math.floor(span / MINUTE), "minute");
    } else if (span < DAY) {
      text = count(Math.floor(span / HOUR), "hour");
    } else if (span < MONTH) {
      text = count(Math.floor(span / DAY), "day");
    } else if (span < YEAR) {
      text = count(Math.floor(span / MONTH), "month");
    } else {
      text = count(Math.floor(span / YEAR), "year");
    }
    return future ? "in " + text : text + " ago";
  }

  function ageSpanOf(time) {
    var next = time.nextElementSibling;
    if (next && next.classList.contains("age")) {
      return next;
    }
    var span = document.createElement("span");
    span.className = "age";
    // The space the server used to render between the time and its age.
    time.parentNode.insertBefore(document.createTextNode(" "), time.nextSibling);
    time.parentNode.insertBefore(span, time.nextSibling.nextSibling);
    return span;
  }

  function refresh() {
    var now = Date.now();
    var times = document.querySelectorAll("time[data-age]");
    for (var i = 0; i < times.length; i++) {
      var then = Date.parse(times[i].getAttribute("datetime"));
      if (isNaN(then)) {
        continue;
      }
      var span = ageSpanOf(times[i]);
      var text = "(" + age(then, now) + ")";
      // Unchanged text is left alone: no needless DOM writes every 30 s.
      if (span.textContent !== text) {
        span.textContent = text;
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
  setInterval(refresh, REFRESH_MS);
  // Live fragments arrive without ages. afterSwap runs before the browser paints the new
  // fragment, so its ages never blink out; afterSettle covers content htmx adds while settling.
  document.addEventListener("htmx:afterSwap", refresh);
  document.addEventListener("htmx:afterSettle", refresh);
})();
