// Small behaviours every page shares. No inline scripts (the CSP forbids them).
(function () {
  // Irreversible actions: a form with data-confirm asks first, in a dialog with the summary of
  // what will happen (data-confirm) and, with data-confirm-reason, a required reason that goes
  // into the form's "reden" field. Registered before the double-click guard below.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-title");
    var title = document.createElement("h2");
    title.id = "confirm-title"; title.textContent = "Weet u het zeker?";
    var text = document.createElement("p");
    text.textContent = form.dataset.confirm;
    dialog.append(title, text);
    var reason = null;
    if (form.dataset.confirmReason) {
      var label = document.createElement("label");
      label.textContent = form.dataset.confirmReason; label.htmlFor = "confirm-reason";
      reason = document.createElement("textarea");
      reason.id = "confirm-reason"; reason.required = true; reason.maxLength = 300; reason.rows = 3;
      var existing = form.querySelector("[name=reden]");
      if (existing) { reason.value = existing.value; }
      dialog.append(label, reason);
    }
    var error = document.createElement("p");
    error.className = "error"; error.hidden = true; error.textContent = "Vul een reden in.";
    var buttons = document.createElement("div");
    buttons.className = "actions";
    var cancel = document.createElement("button");
    cancel.type = "button"; cancel.textContent = "Annuleren";
    var ok = document.createElement("button");
    ok.type = "button"; ok.className = "danger"; ok.textContent = form.dataset.confirmButton || "Ja, doorgaan";
    buttons.append(cancel, ok);
    dialog.append(error, buttons);
    document.body.append(dialog);
    cancel.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    ok.addEventListener("click", function () {
      if (reason) {
        if (!reason.value.trim()) { error.hidden = false; reason.focus(); return; }
        var field = form.querySelector("[name=reden]");
        if (!field) {
          field = document.createElement("input");
          field.type = "hidden"; field.name = "reden"; form.append(field);
        }
        field.value = reason.value.trim();
      }
      form.dataset.confirmed = "1";
      dialog.close();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
    dialog.showModal();
    (reason || cancel).focus();
  }, true);
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
