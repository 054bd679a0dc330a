// Unless the viewer chose a zone on the calendar, times are typed in the browser's zone.
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (browserZone) {
  document.querySelectorAll("input[data-browser-zone]").forEach((input) => { input.value = browserZone; });
  document.querySelectorAll("span[data-browser-zone]").forEach((span) => { span.textContent = browserZone; });
}
