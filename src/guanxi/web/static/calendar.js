// The calendar: drag a post to another day (month) or hour (week) to move it, and tell the
// server the browser's time zone until the viewer picks one. No build step, no framework:
// every action also works without this file (the post's page has a form to move it).
(function () {
  "use strict";

  function root() { return document.getElementById("calendar"); }

  function say(message, isError) {
    const status = document.getElementById("calendar-status");
    if (!status) { return; }
    status.textContent = message;
    status.hidden = false;
    status.className = isError ? "error" : "notice";
    status.setAttribute("role", isError ? "alert" : "status");
  }

  function post(url, fields) {
    const calendar = root();
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": calendar ? calendar.dataset.csrf : "",
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(fields).toString(),
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: response.statusText }; });
    });
  }

  function refreshGrid() {
    // The same address answers with only the grid when htmx asks for #calendar.
    if (window.htmx) {
      window.htmx.ajax("GET", window.location.href, { target: "#calendar", swap: "innerHTML" });
    } else {
      window.location.reload();
    }
  }

  let dragged = null;

  document.addEventListener("dragstart", function (event) {
    const chip = event.target.closest && event.target.closest("li.chip[draggable='true']");
    if (!chip) { return; }
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.dataset.variantId);
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".drop-over").forEach(function (cell) { cell.classList.remove("drop-over"); });
  });

  function dropCell(event) {
    return event.target.closest && event.target.closest("td[data-drop-date]");
  }

  document.addEventListener("dragover", function (event) {
    const cell = dropCell(event);
    if (!cell || !dragged) { return; }
    event.preventDefault();  // allows the drop
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("drop-over");
  });

  document.addEventListener("dragleave", function (event) {
    const cell = dropCell(event);
    if (cell) { cell.classList.remove("drop-over"); }
  });

  document.addEventListener("drop", function (event) {
    const cell = dropCell(event);
    if (!cell || !dragged) { return; }
    event.preventDefault();
    cell.classList.remove("drop-over");
    const chip = dragged;
    dragged = null;
    // Month view keeps the time of day; week view takes the slot's hour and keeps the minutes.
    let time = chip.dataset.localTime;
    if (cell.dataset.dropHour !== undefined) {
      time = String(cell.dataset.dropHour).padStart(2, "0") + ":" + time.slice(3, 5);
    }
    post(chip.dataset.rescheduleUrl, { date: cell.dataset.dropDate, time: time }).then(function (answer) {
      say(answer.message || "", !answer.ok);
      if (answer.ok) { refreshGrid(); }
    }).catch(function (error) { say(String(error), true); });
  });

})();
