/* 便民服务站 — small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  // Live search: results appear while typing; arrow-down moves into the list, Enter opens.
  document.querySelectorAll("input[data-live-search]").forEach(function (input) {
    var list = document.getElementById(input.id + "-results");
    if (!list) { return; }
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q === last) { return; }
        last = q;
        if (!q) { list.innerHTML = ""; return; }
        fetch(input.dataset.liveSearch + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            list.innerHTML = "";
            (data.results || []).forEach(function (hit) {
              var li = document.createElement("li");
              var a = document.createElement("a");
              a.href = hit.url;
              a.textContent = hit.name + "（" + hit.kind_name + " · " + hit.department + "）";
              li.appendChild(a);
              list.appendChild(li);
            });
          })
          .catch(function () { /* the plain form still works */ });
      }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && list.querySelector("a")) { e.preventDefault(); list.querySelector("a").focus(); }
    });
    list.addEventListener("keydown", function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var i = links.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
    });
  });

  // 大字模式 switches in place: a reload would lose what was typed into a form (issue 19).
  var fontToggle = document.getElementById("toggle-large-font");
  if (fontToggle && window.fetch && window.FormData) {
    fontToggle.form.addEventListener("submit", function (e) {
      e.preventDefault();
      fetch(fontToggle.form.action, { method: "POST", body: new FormData(fontToggle.form), credentials: "same-origin",
                                      headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          document.body.classList.toggle("large-font", data.large_font);
          fontToggle.textContent = data.label;
        })
        .catch(function () { fontToggle.form.submit(); });  // the plain form still works
    });
  }

  // Intake: the proxy section only matters for 代办.
  var form = document.getElementById("intake-form");
  if (form) {
    // a double-click must not send the application twice (the server checks too)
    form.addEventListener("submit", function (e) {
      if (form.dataset.sent) { e.preventDefault(); return; }
      form.dataset.sent = "1";
      var save = document.getElementById("save-intake");
      if (save) { setTimeout(function () { save.disabled = true; save.textContent = "正在保存…"; }, 0); }
    });
    var section = document.getElementById("proxy-section");
    var update = function () {
      var mode = form.querySelector("input[name=mode]:checked");
      var proxy = mode && mode.value === "proxy";
      section.hidden = !proxy;
      section.querySelectorAll("input").forEach(function (el) { el.disabled = !proxy; });
    };
    form.querySelectorAll("input[name=mode]").forEach(function (el) { el.addEventListener("change", update); });
    update();
    // A field required only for some answer of another (条件必填): the star shows while that answer is chosen.
    // Only a hint: the server refuses the empty field either way.
    form.querySelectorAll("[data-required-when]").forEach(function (el) {
      var other = form.querySelector("[name='" + el.dataset.requiredWhen + "']");
      var wanted = JSON.parse(el.dataset.requiredIn || "[]");
      var box = el.closest(".field");
      if (!other || !box) { return; }
      var mark = function () {
        var now = wanted.indexOf(other.value.trim()) >= 0;
        box.classList.toggle("required-now", now);
        el.setAttribute("aria-required", now ? "true" : "false");
      };
      other.addEventListener("change", mark);
      other.addEventListener("input", mark);
      mark();
    });
    // After a failed save the focus goes to the first field in error, not back to the top of the form.
    var wrong = form.querySelector(".has-error input:not([type=hidden]):not([disabled]), .has-error select, .has-error textarea");
    if (wrong) {
      var message = wrong.closest(".field, td") && wrong.closest(".field, td").querySelector(".field-error");
      wrong.setAttribute("aria-invalid", "true");
      if (message && message.id) { wrong.setAttribute("aria-describedby", message.id); }
      wrong.focus();
    }
  }

  // A scan over the limit is refused before it leaves the page, so nothing typed here is lost.
  // a 容缺 date on a rest day is allowed (民法典 §203 moves it on) but said at once: the resident would find the station shut
  document.querySelectorAll("input[data-rest-days]").forEach(function (input) {
    var days = JSON.parse(input.getAttribute("data-rest-days") || "{}");
    var note = input.parentNode.querySelector("[data-rest-day-note]");
    if (!note) { return; }
    var show = function () { note.textContent = days[input.value] || ""; };
    input.addEventListener("change", show);
    input.addEventListener("input", show);
  });

  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      var out = document.getElementById("upload-too-large");
      if (file && file.size > Number(input.dataset.maxBytes)) {
        event.preventDefault();
        if (out) { out.textContent = input.dataset.tooLarge; }
      } else if (out) {
        out.textContent = "";
      }
    });
  });

  // Sync page: poll progress while a sync runs.
  var summary = document.getElementById("sync-summary");
  if (summary) {
    var out = document.getElementById("sync-progress");
    var poll = function () {
      fetch(summary.dataset.progressUrl, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          document.getElementById("queue-length").textContent = s.queue_length;
          var cases = document.getElementById("queued-cases");
          if (cases) { cases.textContent = s.queued_cases; }
          var visits = document.getElementById("queued-visits");
          if (visits) { visits.textContent = s.queued_visits; }
          document.getElementById("set-aside-count").textContent = s.set_aside_count + " 条";
          if (s.last_success) { document.getElementById("last-success").textContent = s.last_success.slice(0, 16); }
          // only the current failure is shown: after a success an older error is history, not state
          document.getElementById("last-error").textContent = s.last_error
            ? s.last_error + (s.last_error_at ? "（" + s.last_error_at.slice(0, 16) + "）" : "")
            : (s.recovered_error_at ? "—（" + s.recovered_error_at.slice(0, 16) + " 的故障已恢复）" : "—");
          var at = document.getElementById("link-state-at");
          if (at) {
            at.textContent = s.last_error_at ? "自 " + s.last_error_at.slice(0, 16) + " 起"
              : (s.last_success ? s.last_success.slice(0, 16) + " 同步成功" : "—");
          }
          document.getElementById("oldest-queued").textContent =
            s.oldest_queued_at ? s.oldest_queued_at.replace("T", " ").slice(0, 16) : "—";
          var p = s.progress;
          var button = document.getElementById("sync-now");
          if (button) { button.disabled = !!(p && p.running); }  // one round at a time
          if (p && p.running) {
            out.textContent = "同步中：" + (p.message || "") + "（已发送 " + (p.sent || 0) + " / " + (p.total || 0) + "）";
          } else if (p && p.message) {
            out.textContent = p.message;
          }
          var link = document.getElementById("link-state");
          link.textContent = s.link_state_label;  // the words come from the server, one table
          link.className = "link-" + (["up", "unknown", "unlinked"].indexOf(s.link_state) >= 0 ? s.link_state : "down");
          link.setAttribute("data-state", s.link_state);
        })
        .catch(function () {});
    };
    poll();  // at once: right after 立即同步 the clerk should not wait for the first tick
    setInterval(poll, 1500);
  }
  // USB bundles: a progress bar while the bundle is written (polled) or uploaded (XHR upload events).
  var usbExport = document.getElementById("usb-export");
  if (usbExport) {
    var bar = document.getElementById("usb-export-progress");
    var words = document.getElementById("usb-export-status");
    document.getElementById("usb-export-form").addEventListener("submit", function () {
      bar.hidden = false;
      var timer = setInterval(function () {
        fetch(usbExport.dataset.progressUrl, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (p) {
            if (!p.total) { return; }
            bar.value = Math.floor(p.done * 100 / p.total);
            words.textContent = p.message || "";
            if (p.done >= p.total) { clearInterval(timer); }
          })
          .catch(function () {});
      }, 500);
    });
  }
  document.querySelectorAll("form.usb-upload").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      if (!window.XMLHttpRequest || !window.FormData || !file.files.length) { return; }  // the plain form still works
      event.preventDefault();
      var bar = form.querySelector("progress");
      bar.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.floor(e.loaded * 100 / e.total); }
      });
      xhr.addEventListener("load", function () { window.location = xhr.responseURL || window.location.href; });
      xhr.send(new FormData(form));
    });
  });
})();
