// Suggestions under the site search box as the shopper types (GET /api/suggest).
(function () {
  const input = document.getElementById("site-q");
  if (!input) return;
  const list = document.createElement("datalist");
  list.id = "site-q-suggestions";
  document.body.appendChild(list);
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  let timer = null;
  let last = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q.length < 2 || q === last) return;
      last = q;
      try {
        const r = await fetch("/api/suggest?limit=8&q=" + encodeURIComponent(q));
        if (!r.ok) return;
        const body = await r.json();
        if (input.value.trim() !== q) return; // the shopper typed on meanwhile
        list.replaceChildren(...body.suggestions.map((s) => {
          const o = document.createElement("option");
          o.value = s;
          return o;
        }));
      } catch (e) { /* suggestions are a convenience: stay quiet offline */ }
    }, 150);
  });
})();
