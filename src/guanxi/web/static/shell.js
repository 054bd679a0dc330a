// The workspace menu is a <details>: also close it on Escape and on a click elsewhere.
document.addEventListener("keydown", (event) => {
  const open = document.querySelector("details.switcher[open]");
  if (event.key === "Escape" && open) { open.open = false; open.querySelector("summary").focus(); }
});
document.addEventListener("click", (event) => {
  const open = document.querySelector("details.switcher[open]");
  if (open && !open.contains(event.target)) { open.open = false; }
});

// Values the server computes (a campaign's colour, a bar's length, a chart's height) come as
// data- attributes: the Content-Security-Policy forbids style="…", so they are set here.
function applyDataStyles(root) {
  const within = (selector) => [
    ...(root.matches && root.matches(selector) ? [root] : []),
    ...root.querySelectorAll(selector),
  ];
  within("[data-chip]").forEach((node) => node.style.setProperty("--chip", node.dataset.chip));
  within("[data-bar]").forEach((node) => { node.style.width = `${Number(node.dataset.bar)}%`; });
  within("[data-height]").forEach((node) => { node.style.height = `${Number(node.dataset.height)}px`; });
}
applyDataStyles(document);
document.addEventListener("htmx:load", (event) => applyDataStyles(event.detail.elt));

// "/" focuses the top bar's search box, unless the person is typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
  const target = event.target;
  const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
  const box = document.getElementById("global-search");
  if (!typing && box) { event.preventDefault(); box.focus(); box.select(); }
});

// A button with data-copy-field copies the value of the field it names (a link shown once).
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-copy-field]");
  if (!button) { return; }
  const field = document.getElementById(button.dataset.copyField);
  if (!field) { return; }
  field.select();
  if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
  button.textContent = button.dataset.copied || button.textContent;
});

// The search dropdown closes on Escape and on a click elsewhere.
document.addEventListener("keydown", (event) => {
  const dropdown = document.getElementById("search-dropdown");
  if (event.key === "Escape" && dropdown && dropdown.innerHTML.trim()) { dropdown.innerHTML = ""; }
});
document.addEventListener("click", (event) => {
  const dropdown = document.getElementById("search-dropdown");
  const form = dropdown && dropdown.closest("form");
  if (form && !form.contains(event.target)) { dropdown.innerHTML = ""; }
});

// Filters sit in <details class="filters-fold" open>: on a phone they start folded so the list
// comes first, and the summary counts the filters that are set.
function foldFilters(root) {
  if (!window.matchMedia("(max-width: 720px)").matches) { return; }
  const folds = [
    ...(root.matches && root.matches("details.filters-fold[open]") ? [root] : []),
    ...root.querySelectorAll("details.filters-fold[open]"),
  ];
  folds.forEach((fold) => {
    const form = fold.querySelector("form");
    const set = form
      ? [...form.elements].filter((field) => field.name && field.type !== "hidden"
          && field.type !== "submit" && field.value && !(field.type === "checkbox" && !field.checked)).length
      : 0;
    const summary = fold.querySelector("summary");
    if (set && summary) { summary.textContent = `${summary.textContent} (${set})`; }
    fold.open = false;
  });
}
foldFilters(document);
document.addEventListener("htmx:load", (event) => foldFilters(event.detail.elt));
