/* The class check sheet (issue 9 item 2). The page works without this script (a plain form;
   every child then gets the save time). With it:
   - the ✓ beside a child records the moment it was ticked, on the server's clock (the page
     carries the server's time; the device's offset from it is applied), so that the check
     queue is known — who stood next to whom at the checkpoint;
   - opening or editing a child's row records that moment too, if the child was not ticked;
   - a row turns "unwell" as soon as a symptom, a fever or an action is entered, and the
     counter of unwell children follows.
   Times are only recorded for today's check (data-live="1"). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-check-sheet]");
  if (!form) {
    return;
  }
  form.classList.add("hx-js");
  var live = form.getAttribute("data-live") === "1";
  var serverNow = Number(form.getAttribute("data-server-now"));
  var offset = live && isFinite(serverNow) ? serverNow - Date.now() : 0;
  var fever = Number(form.getAttribute("data-fever")) || 37.3;
  var counter = form.querySelector("[data-unwell-count]");

  function timeField(row) {
    return row.querySelector('input[name^="at-"]');
  }

  function stamp(row, force) {
    var field = timeField(row);
    if (!live || !field) {
      return;
    }
    if (force || !field.value) {
      field.value = new Date(Date.now() + offset).toISOString();
    }
  }

  function temperatureOf(row) {
    var input = row.querySelector('input[name^="t-"]');
    if (!input || !input.value) {
      return NaN;
    }
    return parseFloat(input.value.replace("，", ".").replace(",", "."));
  }

  function isUnwell(row) {
    if (row.querySelector('input[name^="s-"]:checked')) {
      return true;
    }
    var action = row.querySelector('input[name^="a-"]:checked');
    if (action && action.value !== "none") {
      return true;
    }
    var other = row.querySelector('input[name^="o-"]');
    if (other && other.value.trim()) {
      return true;
    }
    return temperatureOf(row) >= fever;
  }

  function refresh(row) {
    row.classList.toggle("hx-ck-unwell", isUnwell(row));
    if (counter) {
      counter.textContent = String(form.querySelectorAll("li.hx-ck-unwell").length);
    }
  }

  function rowOf(target) {
    return target && target.closest ? target.closest("li[data-child]") : null;
  }

  form.addEventListener("change", function (event) {
    var row = rowOf(event.target);
    if (!row) {
      return;
    }
    if (event.target.hasAttribute("data-tick")) {
      if (event.target.checked) {
        stamp(row, true);
      } else {
        var field = timeField(row);
        if (field) {
          field.value = field.getAttribute("data-original") || "";
        }
      }
      return;
    }
    stamp(row, false);
    refresh(row);
  });

  form.addEventListener("input", function (event) {
    var row = rowOf(event.target);
    if (row) {
      refresh(row);
    }
  });

  // <details> "toggle" does not bubble: listen while it goes down.
  form.addEventListener(
    "toggle",
    function (event) {
      var row = rowOf(event.target);
      if (row && event.target.open) {
        stamp(row, false);
      }
    },
    true
  );
})();
