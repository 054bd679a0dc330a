// Live highlighting in the composer: each variant's textarea has a backdrop behind it where
// the server marks the checks' hits (swapped in by the inline check). The backdrop follows
// the textarea's scrolling, and shows plain text while the marks no longer fit what is typed.
(() => {
  const areas = () => document.querySelectorAll("textarea[data-backdrop]");
  const backdropOf = (area) => document.getElementById(area.dataset.backdrop);

  const follow = (area) => {
    const backdrop = backdropOf(area);
    if (!backdrop) { return; }
    if (backdrop.textContent !== area.value) { backdrop.textContent = area.value; }
    backdrop.scrollTop = area.scrollTop;
  };

  const bind = (area) => {
    if (area.dataset.backdropBound) { return; }
    area.dataset.backdropBound = "1";
    area.addEventListener("input", () => follow(area));
    area.addEventListener("scroll", () => { const b = backdropOf(area); if (b) { b.scrollTop = area.scrollTop; } });
  };

  areas().forEach(bind);
  document.body.addEventListener("htmx:load", () => areas().forEach(bind));
  // A check answered after more typing would mark the wrong characters: fall back to text.
  document.body.addEventListener("htmx:oobAfterSwap", () => areas().forEach(follow));
})();
