// Copy buttons: the text is selected too, so a long press still works where the clipboard API is missing.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const value = source.value !== undefined ? source.value : source.textContent;
    if (source.select) { source.select(); }
    const status = document.querySelector(".copied");
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = status.dataset.copied;
    } catch (error) {
      document.execCommand("copy");
      status.textContent = status.dataset.selected;
    }
  });
});
// Times: shown in this device's own zone next to the account's.
document.querySelectorAll("time[data-local]").forEach((node) => {
  const when = new Date(node.getAttribute("datetime"));
  node.textContent = when.toLocaleString(document.documentElement.lang, {dateStyle: "medium", timeStyle: "short"});
});
