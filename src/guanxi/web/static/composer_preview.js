// The composer's live previews, counters, helpers and tabs. Each [data-composer] element holds
// a variant's fields ([data-slot-source]) and its previews ([data-preview]); every keystroke
// redraws the previews as the platform would show the post, and counts each field against the
// limit its connector declares (data-limit, data-counting on each [data-counter]).
(() => {
  const weiboLength = (text) => {
    let halves = 0;
    for (const char of text) { halves += char.codePointAt(0) < 0x80 ? 1 : 2; }
    return Math.floor((halves + 1) / 2);
  };
  const lengthOf = (text, counting) => (counting === "latin_halves" ? weiboLength(text) : [...text].length);
  const valueOf = (root, name) => {
    const field = root.querySelector(`[data-slot-source="${name}"]`);
    return field ? field.value : "";
  };
  const image = (src) => { const img = document.createElement("img"); img.src = src; img.alt = ""; return img; };

  const images = (root) => [
    ...[...root.querySelectorAll("input[data-image]:checked")].map((box) => box.dataset.image),
    ...(root.uploads || []),
  ];

  const cover = (root, all) => {
    const select = root.querySelector("select[name=cover]");
    const chosen = select && select.selectedOptions[0] ? select.selectedOptions[0].dataset.image : "";
    return chosen || all[0] || "";
  };

  const fill = (slot, make) => {
    if (slot.dataset.empty === undefined) { slot.dataset.empty = slot.innerHTML; }
    const made = make();
    if (made) { slot.replaceChildren(made); } else { slot.innerHTML = slot.dataset.empty; }
  };

  const draw = (root) => {
    const text = valueOf(root, "text");
    const title = valueOf(root, "title");
    const digest = valueOf(root, "digest");
    const all = images(root);
    const front = cover(root, all);
    root.querySelectorAll("[data-preview]").forEach((card) => {
      const kind = card.dataset.preview;
      card.querySelectorAll('[data-slot="text"]').forEach((slot) => { slot.textContent = text; });
      card.querySelectorAll('[data-slot="title"]').forEach((slot) => {
        if (slot.dataset.placeholder === undefined) { slot.dataset.placeholder = title ? "" : slot.textContent; }
        slot.textContent = title || (kind === "note" ? [...text].slice(0, 20).join("") : slot.dataset.placeholder);
      });
      card.querySelectorAll('[data-slot="digest"]').forEach((slot) => { slot.textContent = digest || [...text].slice(0, 54).join(""); });
      card.querySelectorAll('[data-slot="images"]').forEach((slot) => { slot.replaceChildren(...all.slice(0, 9).map(image)); });
      card.querySelectorAll('[data-slot="cover"]').forEach((slot) => {
        if (kind === "video") { return; }
        fill(slot, () => (front ? image(front) : null));
      });
      card.querySelectorAll("[data-counter]").forEach((counter) => {
        const value = { text, title, digest }[counter.dataset.field] || "";
        const length = lengthOf(value, counter.dataset.counting);
        const limit = Number(counter.dataset.limit || 0);
        counter.textContent = limit ? `${length} / ${limit}` : String(length);
        counter.classList.toggle("over", Boolean(limit) && length > limit);
      });
    });
  };

  const readUploads = (root, input) => {
    const files = [...input.files].filter((file) => file.type.startsWith("image/"));
    Promise.all(files.map((file) => new Promise((done) => {
      const reader = new FileReader();
      reader.onload = () => done(reader.result);
      reader.onerror = () => done("");
      reader.readAsDataURL(file);
    }))).then((urls) => { root.uploads = urls.filter(Boolean); draw(root); });
  };

  const showAccounts = (root) => {
    let any = false;
    root.querySelectorAll("input[data-account]").forEach((box) => {
      const shown = root.querySelector(`[data-preview-of="${box.dataset.account}"]`);
      if (shown) { shown.hidden = !box.checked; }
      any = any || box.checked;
    });
    const hint = root.querySelector("[data-no-account]");
    if (hint) { hint.hidden = any; }
  };

  const bind = (root) => {
    if (root.dataset.composerBound) { return; }
    root.dataset.composerBound = "1";
    root.addEventListener("input", () => draw(root));
    root.addEventListener("change", (event) => {
      if (event.target.matches("[data-upload-preview]")) { readUploads(root, event.target); }
      showAccounts(root);
      draw(root);
    });
    showAccounts(root);
    draw(root);
  };

  // The #话题#, @ and emoji helpers insert at the caret of their textarea.
  const insert = (button) => {
    const holder = button.closest("[data-helpers-for]");
    const area = holder && document.getElementById(holder.dataset.helpersFor);
    if (!area) { return; }
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? start;
    const piece = button.dataset.insert;
    area.value = area.value.slice(0, start) + piece + area.value.slice(end);
    const [from, to] = (button.dataset.select || `${piece.length},${piece.length}`).split(",").map(Number);
    area.focus();
    area.setSelectionRange(start + from, start + to);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  };

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-emoji-toggle]");
    if (toggle) {
      const panel = toggle.parentElement.querySelector(".emoji-panel");
      panel.hidden = !panel.hidden;
      toggle.setAttribute("aria-expanded", String(!panel.hidden));
      return;
    }
    const button = event.target.closest("[data-insert]");
    if (button) { insert(button); }
  });

  // Tabs: one variant shown at a time; without script every variant shows, one under another.
  const tabs = () => document.querySelectorAll("[role=tab]");
  const select = (tab) => {
    tabs().forEach((other) => {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) { panel.hidden = !on; }
    });
  };
  const initialTab = () => {
    const wanted = location.hash && document.querySelector(location.hash);
    const list = [...tabs()];
    return list.find((tab) => wanted && document.getElementById(tab.getAttribute("aria-controls")).contains(wanted))
      || list.find((tab) => tab.dataset.error === "1") || list[0];
  };
  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (tab) { select(tab); history.replaceState(null, "", `#${tab.getAttribute("aria-controls")}`); }
  });
  if (tabs().length) { select(initialTab()); }

  // Scheduling all at once: one time for all, or a time per variant.
  document.querySelectorAll("[data-schedule-all]").forEach((form) => {
    const sync = () => {
      const each = form.querySelector("input[name=mode][value=each]");
      const perVariant = Boolean(each && each.checked);
      form.querySelectorAll(".each").forEach((field) => { field.hidden = !perVariant; });
      form.querySelectorAll(".one").forEach((field) => { field.hidden = perVariant; });
    };
    form.addEventListener("change", sync);
    sync();
  });

  document.querySelectorAll("[data-composer]").forEach(bind);
})();

// The tags field: a tag used before, clicked, is added to what is typed (once).
(() => {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-tag]");
    if (!button) { return; }
    const field = button.closest("form")?.querySelector("[data-tags-field]");
    if (!field) { return; }
    const typed = field.value.split(/[,，、;；]/).map((tag) => tag.trim()).filter(Boolean);
    if (!typed.includes(button.dataset.addTag)) { typed.push(button.dataset.addTag); }
    field.value = typed.join(", ");
  });
})();
