/* Search by photo: pick or drop a photo, draw a crop box (mouse, touch or keyboard),
   filter, and show the API's matches with their scores. No dependencies. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const app = $("search-app");
  if (!app) return;
  const input = $("photo"), dropzone = $("dropzone"), stageWrap = $("stage-wrap");
  const stage = $("stage"), preview = $("preview"), box = $("crop-box");
  const results = $("results"), statusEl = $("search-status"), errorEl = $("search-error");
  const filters = $("search-filters"), kInput = $("f-k"), typeSelect = $("f-article_type");
  const predicted = $("predicted"), pick = $("predicted-pick"), only = $("predicted-only");
  const colourSelect = $("f-colour"), colourChip = $("colour-chip");
  const colourPick = $("colour-pick"), colourOnly = $("colour-only");
  const MIN = 0.04; // smallest crop side, as a fraction of the photo
  let file = null, crop = null, controller = null, objectUrl = null;
  let allTypes = false; // the shopper chose "None (all types)": no type gate

  // ------------------------------------------------------------------ photo in
  function setFile(f) {
    if (!f) return;
    file = f;
    allTypes = false;
    crop = null;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(f);
    preview.src = objectUrl;
    stageWrap.hidden = false;
    dropzone.classList.add("has-photo");
    dropzone.querySelector(".dz-main").textContent = "Drop another photo, or choose one";
    drawBox();
    search();
  }
  input.addEventListener("change", () => setFile(input.files[0]));
  // the browser cannot show it (not an image): keep the API's message, drop the empty preview
  preview.addEventListener("error", () => { if (file) stageWrap.hidden = true; });
  $("change-photo").addEventListener("click", () => input.click());
  ["dragenter", "dragover"].forEach((type) =>
    dropzone.addEventListener(type, (e) => {
      e.preventDefault();
      dropzone.classList.add("dragging");
    })
  );
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("dragging"));
  dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropzone.classList.remove("dragging");
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) setFile(f);
  });

  // ------------------------------------------------------------------ crop box
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  function drawBox() {
    box.hidden = !crop;
    stage.classList.toggle("cropping", !!crop);
    $("crop-clear").disabled = !crop;
    if (!crop) return;
    const [x0, y0, x1, y1] = crop;
    Object.assign(box.style, {
      left: x0 * 100 + "%", top: y0 * 100 + "%",
      width: (x1 - x0) * 100 + "%", height: (y1 - y0) * 100 + "%",
    });
  }
  function point(e) {
    const r = preview.getBoundingClientRect();
    return [clamp((e.clientX - r.left) / r.width, 0, 1), clamp((e.clientY - r.top) / r.height, 0, 1)];
  }
  let start = null;
  stage.addEventListener("pointerdown", (e) => {
    if (!file || e.button !== 0) return;
    e.preventDefault();
    start = point(e);
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener("pointermove", (e) => {
    if (!start) return;
    const [x, y] = point(e);
    crop = [Math.min(start[0], x), Math.min(start[1], y), Math.max(start[0], x), Math.max(start[1], y)];
    drawBox();
  });
  stage.addEventListener("pointerup", () => {
    if (!start) return;
    start = null;
    if (crop && (crop[2] - crop[0] < MIN || crop[3] - crop[1] < MIN)) crop = null; // a click
    drawBox();
    search();
  });
  $("crop-draw").addEventListener("click", () => {
    crop = crop || [0.2, 0.2, 0.8, 0.8];
    drawBox();
    box.focus();
    search();
  });
  $("crop-clear").addEventListener("click", () => {
    crop = null;
    drawBox();
    search();
  });
  box.addEventListener("keydown", (e) => {
    if (!crop) return;
    const step = e.altKey ? 0.01 : 0.05;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (d) {
      e.preventDefault();
      let [x0, y0, x1, y1] = crop;
      if (e.shiftKey) { // resize from the bottom-right corner
        x1 = clamp(x1 + d[0], x0 + MIN, 1);
        y1 = clamp(y1 + d[1], y0 + MIN, 1);
      } else { // move, keeping the size
        const w = x1 - x0, h = y1 - y0;
        x0 = clamp(x0 + d[0], 0, 1 - w);
        y0 = clamp(y0 + d[1], 0, 1 - h);
        x1 = x0 + w;
        y1 = y0 + h;
      }
      crop = [x0, y0, x1, y1];
      drawBox();
    } else if (e.key === "Enter") {
      e.preventDefault();
      search();
    } else if (e.key === "Delete" || e.key === "Backspace" || e.key === "Escape") {
      e.preventDefault();
      crop = null;
      drawBox();
      $("crop-draw").focus();
      search();
    }
  });

  // ------------------------------------------------------------------ search
  const pct = (v) => Math.round(100 * Math.max(0, v));
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === "text" ? (node.textContent = v) : node.setAttribute(k, v)));
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }
  // what the result shares with the photo ("same type · similar colour: blue · similar shape")
  function reasonLine(reasons) {
    if (!reasons || !reasons.length) return [];
    return [el("span", {
      class: "reasons",
      "data-codes": reasons.map((r) => r.code).join(" "),
      text: reasons.map((r) => r.text).join(" · "),
    })];
  }
  function card(p) {
    const meta = [p.article_type, p.base_colour].filter(Boolean).join(" · ");
    const img = el("img", { src: p.image_url, alt: p.name || "Product " + p.id, loading: "lazy", width: "240", height: "320" });
    return el("li", { class: "card" }, [
      el("a", { href: "/products/" + encodeURIComponent(p.id), class: "card-link" }, [
        el("div", { class: "card-img" }, [img]),
        el("div", { class: "card-body" }, [
          el("span", { class: "card-name", text: p.name || "Product " + p.id }),
          el("span", { class: "card-meta", text: meta }),
          el("span", { class: "score", title: "Similarity " + p.score, text: pct(p.score) + " % match" }),
          ...reasonLine(p.reasons),
        ]),
      ]),
    ]);
  }
  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    results.replaceChildren();
    results.dataset.state = "error";
    statusEl.textContent = "The search did not work.";
    predicted.hidden = true;
    colourChip.hidden = true;
  }
  function showPredicted(pred) {
    showColour(pred && pred.base_colour);
    const type = pred && pred.article_type;
    predicted.hidden = !type;
    if (!type) return;
    $("predicted-type").textContent = type.value;
    $("predicted-conf").textContent = "(" + pct(type.confidence) + " %)";
    only.textContent = "Only " + type.value;
    only.dataset.value = type.value;
    pick.value = typeSelect ? typeSelect.value : "";
  }
  function showColour(colour) {
    colourChip.hidden = !colour;
    if (!colour) return;
    $("colour-name").textContent = colour.value;
    $("colour-conf").textContent = "(" + pct(colour.confidence) + " %)";
    colourOnly.textContent = "Only " + colour.value;
    colourOnly.dataset.value = colour.value;
    // a colour the catalog does not sell cannot be a filter
    colourOnly.hidden = ![...colourPick.options].some((o) => o.value === colour.value);
    colourPick.value = colourSelect ? colourSelect.value : "";
  }
  async function search() {
    if (!file) return;
    if (controller) controller.abort();
    controller = new AbortController();
    const params = new URLSearchParams();
    new FormData(filters).forEach((v, k) => { if (v !== "" && k !== "k") params.append(k, v); });
    params.set("k", String(clamp(parseInt(kInput.value, 10) || 12, 1, 100)));
    if (crop) params.set("crop", crop.map((v) => v.toFixed(4)).join(","));
    if (allTypes) params.set("type_gate", "false");
    const body = new FormData();
    body.append("file", file, file.name || "photo");
    results.dataset.state = "loading";
    app.setAttribute("aria-busy", "true");
    statusEl.textContent = crop ? "Searching the boxed area…" : "Searching…";
    try {
      const res = await fetch("/api/search?" + params, { method: "POST", body, signal: controller.signal });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        showError((data.error && data.error.message) || "The server answered " + res.status + ".");
        return;
      }
      errorEl.hidden = true;
      showPredicted(data.predicted);
      results.replaceChildren(...data.results.map(card));
      results.dataset.state = "done";
      results.dataset.crop = data.crop ? data.crop.join(",") : "";
      const n = data.results.length;
      const words = data.showing && data.showing.length ? " · " + data.showing.join(" · ") : "";
      statusEl.textContent = n
        ? n + (n === 1 ? " match" : " matches") + (crop ? " for the boxed area" : "") + words + ", best first."
        : "No products match these filters. Try fewer filters.";
    } catch (err) {
      if (err.name !== "AbortError") showError("Could not reach the shop. Check your connection and try again.");
    } finally {
      app.removeAttribute("aria-busy");
    }
  }
  filters.addEventListener("change", search);
  filters.addEventListener("submit", (e) => { e.preventDefault(); search(); });
  function setType(value) {
    allTypes = value === "";
    if (typeSelect) typeSelect.value = value;
    pick.value = value;
    search();
  }
  only.addEventListener("click", () => setType(only.dataset.value || ""));
  pick.addEventListener("change", () => setType(pick.value));
  // the colour chip sets the form's colour filter (colour=<name>); "Any colour" clears it
  function setColour(value) {
    if (colourSelect) colourSelect.value = value;
    colourPick.value = value;
    search();
  }
  colourOnly.addEventListener("click", () => setColour(colourOnly.dataset.value || ""));
  colourPick.addEventListener("change", () => setColour(colourPick.value));
})();
