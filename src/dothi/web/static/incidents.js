/* dothi incident pages: every action is a form with `data-api`, sent as JSON to that
   address with the session's CSRF token; on success the page reloads with what the server
   now holds, or opens `data-next` with the new object's id. Checkboxes
   make lists, number inputs numbers, a datetime-local input takes the form's `data-offset`;
   empty fields are left out. A refusal shows the server's reason in the form. */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector("meta[name='csrf-token']");
    return meta ? meta.content : "";
  }

  function body(form) {
    var sent = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.disabled) { return; }
      if (input.type === "checkbox") {
        sent[input.name] = sent[input.name] || [];
        if (input.checked) { sent[input.name].push(input.value); }
      } else if (input.value.trim() !== "") {
        sent[input.name] = input.type === "number" ? Number(input.value)
          : input.type === "datetime-local" ? input.value + ":00" + (form.dataset.offset || "")
          : input.value.trim();
      }
    });
    return sent;
  }

  function reason(answer, data) {
    var detail = data && data.detail;
    if (Array.isArray(detail) && detail.length) { return detail[0].msg; }
    return detail || (data && data.title) || String(answer.status);
  }

  function send(form) {
    var button = form.querySelector("button[type='submit']");
    var note = form.querySelector(".form-error");
    if (button) { button.disabled = true; }
    form.setAttribute("aria-busy", "true");
    fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body(form))
    }).then(function (answer) {
      return (answer.status === 204 ? Promise.resolve(null) : answer.json()).then(function (data) {
        if (!answer.ok) { throw new Error(reason(answer, data)); }
        if (form.dataset.next && data && data.id) {  // what the action made, e.g. an incident
          window.location.assign(form.dataset.next.replace("{id}", encodeURIComponent(data.id)));
        } else {
          window.location.reload();
        }
      });
    }).catch(function (error) {
      if (button) { button.disabled = false; }
      form.removeAttribute("aria-busy");
      if (note) {
        note.textContent = error.message;
        note.hidden = false;
      }
    });
  }

  // A ward chosen instead of a point: its point goes into the form's lon and lat.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-point]");
    if (!select) { return; }
    var option = select.options[select.selectedIndex];
    select.form.elements.lon.value = option.dataset.lon;
    select.form.elements.lat.value = option.dataset.lat;
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-api]");
    if (!form) { return; }
    event.preventDefault();
    send(form);
  });
}());
