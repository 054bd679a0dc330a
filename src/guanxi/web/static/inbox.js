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

  function listKeys(event, list) {
    var row = current >= 0 ? rows()[current] : null;
    var bulk = document.getElementById("bulk");
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": case "Enter": if (row) window.location = row.dataset.url; break;
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

  document.addEventListener("change", function (event) {
    if (event.target.id !== "saved-reply") return;
    var option = event.target.selectedOptions[0];
    var text = document.getElementById("reply-text");
    if (option && option.dataset.text && text) text.value = option.dataset.text;
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.hash === "#reply" && document.getElementById("reply-text")) {
      document.getElementById("reply-text").focus();
    }
  });
})();
