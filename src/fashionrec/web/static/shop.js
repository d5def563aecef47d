/* Listing page: apply filters and sorting as soon as they change (the buttons remain for
   no-JS use). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach((s) =>
    s.addEventListener("change", () => s.form.submit())
  );
  const form = document.getElementById("filter-form");
  if (form) {
    form.addEventListener("change", () => form.submit());
  }
})();
