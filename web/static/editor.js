// Progressive enhancement for the sheet editor. Without this file every button is a normal
// form submit that the server handles; with it, rows are added and removed in place.
(function () {
  "use strict";

  function recheck(form) {
    form.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // ids, values and the screen-reader names follow the row's place: the third row is 「問題 3」
  function renumber(list) {
    const field = list.dataset.field;
    const label = list.dataset.label || field;
    list.querySelectorAll("li").forEach(function (li, i) {
      const area = li.querySelector("textarea");
      area.id = "f-" + field + "-" + i;
      area.setAttribute("aria-label", label + " " + (i + 1));
      const remove = li.querySelector("[data-remove-row]");
      if (remove) {
        remove.value = "remove:" + field + ":" + i;
        remove.setAttribute("aria-label", label + " " + (i + 1) + " を削除");
      }
    });
  }

  // keep-typing.js changed the rows after 「欄外メモへ移す」 or 「元に戻す」
  document.addEventListener("coach-renumber", function (event) { renumber(event.target); });

  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      const list = document.getElementById(add.dataset.addRow);
      const last = list.querySelector("li:last-child");
      const row = last.cloneNode(true);
      row.querySelector("textarea").value = "";
      list.appendChild(row);
      renumber(list);
      row.querySelector("textarea").focus();
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      const li = remove.closest("li");
      const list = li.parentElement;
      if (list.querySelectorAll("li").length > 1) {
        li.remove();
      } else {
        li.querySelector("textarea").value = "";
      }
      renumber(list);
      recheck(list.closest("form"));
    }
  });
})();

// When the login expires mid-typing, the server answers 401 and says so in a header: keep the
// page (and what was typed) and show how to continue.
document.body && document.body.addEventListener("coach-login-expired", function () {
  const banner = document.getElementById("login-expired");
  if (banner) banner.hidden = false;
});
