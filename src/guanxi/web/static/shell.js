// The workspace menu is a <details>: also close it on Escape and on a click elsewhere.
document.addEventListener("keydown", (event) => {
  const open = document.querySelector("details.switcher[open]");
  if (event.key === "Escape" && open) { open.open = false; open.querySelector("summary").focus(); }
});
document.addEventListener("click", (event) => {
  const open = document.querySelector("details.switcher[open]");
  if (open && !open.contains(event.target)) { open.open = false; }
});
