// Small behaviours every page shares. No inline scripts (the CSP forbids them).
(function () {
  // A second click on "send"/"save" while the first is on its way does nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitting === "1") { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-busy", "true"); });
    setTimeout(function () { form.dataset.submitting = ""; }, 8000);
  }, true);
  // htmx: show the server's Dutch error page text instead of silently doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("htmx-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-error"; box.className = "flash flash-error"; box.setAttribute("role", "alert");
      document.querySelector("main").prepend(box);
    }
    box.textContent = "Dat lukte niet (" + event.detail.xhr.status + "). Laad de pagina opnieuw en probeer het nog eens.";
  });
})();
