// Like / Dislike / More like this / Less like this on a product page: POST /api/events.
// The shopper's next recommendations take the feedback into account.
(function () {
  "use strict";
  var box = document.querySelector(".feedback[data-user][data-product]");
  if (!box) return;
  var status = box.querySelector(".feedback-status");
  var said = {
    like: "Thanks: we will show you more like this.",
    dislike: "Noted: we will show you fewer like this.",
    more: "We will show you more like this.",
    less: "We will show you less like this."
  };
  box.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-kind]");
    if (!button) return;
    var kind = button.getAttribute("data-kind");
    var headers = { "Content-Type": "application/json" };
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) headers["X-CSRF-Token"] = meta.content;
    var user = box.getAttribute("data-user");
    button.disabled = true;
    fetch("/api/events", {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: JSON.stringify({
        user_id: /^\d+$/.test(user) ? Number(user) : user,
        product_id: box.getAttribute("data-product"),
        kind: kind
      })
    })
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) {
            throw new Error((body.error && body.error.message) || response.statusText);
          });
        }
        box.querySelectorAll("button[data-kind]").forEach(function (b) {
          b.setAttribute("aria-pressed", b === button ? "true" : "false");
        });
        status.textContent = said[kind] || "Thanks.";
      })
      .catch(function (error) {
        status.textContent = "Sorry, that did not work: " + error.message;
      })
      .finally(function () {
        button.disabled = false;
      });
  });
})();
