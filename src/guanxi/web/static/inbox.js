// Inbox keyboard shortcuts and saved replies. j/k move, o or Enter open, x select,
// e done, a assign to me, r reply, / search. Keys typed into a field are left alone.
(function () {
  "use strict";

  function typing(event) {
    var tag = event.target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable;
  }

  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function post(url, fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    fields.csrf_token = csrf();
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox-rows .inbox-row"));
  }

  function select(index) {
    var all = rows();
    if (!all.length) return null;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    all[current].scrollIntoView({ block: "nearest" });
    return all[current];
  }

  // Wide screens show the list and the chosen item's conversation side by side.
  function paneShown() {
    var pane = document.getElementById("inbox-pane");
    return pane && window.getComputedStyle(pane).display !== "none" && window.htmx ? pane : null;
  }

  function openItem(row) {
    var pane = paneShown();
    if (!pane) { window.location = row.dataset.url; return; }
    rows().forEach(function (other, i) {
      other.classList.toggle("current", other === row);
      if (other === row) current = i;
    });
    window.htmx.ajax("GET", row.dataset.url + "?pane=1", { target: "#inbox-pane", swap: "innerHTML" });
  }

  // The thread scrolls to the item it is centred on, not to the oldest comment.
  function centreThread() {
    var list = document.querySelector(".thread");
    var centre = list && list.querySelector("li.this");
    if (centre) list.scrollTop = centre.offsetTop - list.offsetTop - list.clientHeight / 3;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#inbox-rows .inbox-row .text a");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || !paneShown()) return;
    event.preventDefault();
    openItem(link.closest(".inbox-row"));
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "inbox-pane") centreThread();
  });

  function listKeys(event, list) {
    var row = current >= 0 ? rows()[current] : null;
    var bulk = document.getElementById("bulk");
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": case "Enter": if (row) openItem(row); break;
      case "r": if (row) window.location = row.dataset.url + "#reply"; break;
      case "x":
        if (row) { var box = row.querySelector("input[type=checkbox]"); if (box) box.checked = !box.checked; }
        break;
      case "e":
        if (row && bulk) post(bulk.action, { item: row.dataset.item, action: "done", next: window.location.pathname + window.location.search });
        break;
      case "a":
        if (row && bulk) post(bulk.action, { item: row.dataset.item, action: "assign", value: list.dataset.me, next: window.location.pathname + window.location.search });
        break;
      default: return;
    }
    event.preventDefault();
  }

  function threadKeys(event) {
    var target = { e: "status-done", a: "assign-me" }[event.key];
    if (target && document.getElementById(target)) {
      document.getElementById(target).submit();
    } else if (event.key === "r" && document.getElementById("reply-text")) {
      document.getElementById("reply-text").focus();
    } else {
      return;
    }
    event.preventDefault();
  }

  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/") {
      var search = document.getElementById("inbox-search");
      if (search) { search.focus(); event.preventDefault(); }
      return;
    }
    var list = document.getElementById("inbox-rows");
    if (list) listKeys(event, list); else threadKeys(event);
  });

  // The collision warning tells the others when this member's reply box holds text.
  document.addEventListener("input", function (event) {
    var flag = document.getElementById("replying-flag");
    if (event.target.id === "reply-text" && flag) flag.value = event.target.value.trim() ? "1" : "0";
  });

  // The bulk bar asks for a member only to assign, for a tag only to tag.
  function bulkFields() {
    var action = document.getElementById("bulk-action");
    if (!action) return;
    document.querySelectorAll("#bulk .bulk-member").forEach(function (field) { field.hidden = action.value !== "assign"; });
    document.querySelectorAll("#bulk .bulk-tag").forEach(function (field) { field.hidden = action.value !== "tag" && action.value !== "untag"; });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "bulk-action") bulkFields();
    if (event.target.id !== "saved-reply") return;
    var option = event.target.selectedOptions[0];
    var text = document.getElementById("reply-text");
    if (option && option.dataset.text && text) {
      text.value = option.dataset.text;
      text.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    centreThread();
    bulkFields();
    if (window.location.hash === "#reply" && document.getElementById("reply-text")) {
      document.getElementById("reply-text").focus();
    }
  });
})();
