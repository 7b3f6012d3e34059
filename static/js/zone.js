// The account page's time-zone field: the zone most people want is their browser's own, so it is
// offered first, as a one-click button and at the top of the searchable list.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector("[data-browser-zone]");
  var input = document.getElementById("id_time_zone");
  var list = document.getElementById("time-zones");
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!button || !input || !list || !zone) {
    return;
  }
  var known = list.querySelector('option[value="' + CSS.escape(zone) + '"]');
  if (!known) {
    return; // a zone this installation does not know: nothing to offer
  }
  list.insertBefore(known, list.firstChild);
  button.textContent = "Use " + zone + " (this browser's zone)";
  button.hidden = false;
  button.addEventListener("click", function () {
    input.value = zone;
    input.focus();
  });
});
