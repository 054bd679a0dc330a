// The catalog's filters: a 400 answer is the form's own error message, shown in the results.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target.id === "catalog-results" && event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
