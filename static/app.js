// rd-contacts: our small htmx-style helper. Pages work without it; with it, elements
// that carry hx-* attributes fetch server-rendered fragments and swap them in.
//
//   hx-get / hx-post   URL to request (forms send their fields; POSTs carry the CSRF header)
//   hx-target          "this", a CSS selector, "find <sel>" or "closest <sel>"
//   hx-select          take only this part of the response
//   hx-swap            innerHTML (default), outerHTML, beforeend
//   hx-trigger         click | submit | change | load | toggle, "once", or "every Ns" (polling)
//   hx-confirm         ask before sending
// A plain form with data-confirm asks before it submits.
// In a side panel (#panel), data-close-panel links and Escape close it; a title select
// with data-suggest-types checks its option's suggested message types until the person
// has ticked a box themselves.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function resolveTarget(el) {
    var spec = el.getAttribute("hx-target");
    if (!spec || spec === "this") return el;
    if (spec.indexOf("find ") === 0) return el.querySelector(spec.slice(5));
    if (spec.indexOf("closest ") === 0) return el.closest(spec.slice(8));
    return document.querySelector(spec);
  }

  function swap(target, html, how, select) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var content = tpl.content;
    if (select) {
      var picked = content.querySelector(select);
      content = document.createDocumentFragment();
      if (picked) content.appendChild(picked);
    }
    if (how === "outerHTML") {
      var first = content.firstElementChild;
      target.replaceWith(content);
      if (first) process(first);
    } else if (how === "beforeend") {
      var parent = target;
      var added = Array.prototype.slice.call(content.children);
      parent.appendChild(content);
      added.forEach(process);
    } else {
      target.replaceChildren(content);
      process(target);
    }
  }

  function request(el, event) {
    var confirmText = el.getAttribute("hx-confirm");
    if (confirmText && !window.confirm(confirmText)) return;
    var method = el.hasAttribute("hx-post") ? "POST" : "GET";
    var url = el.getAttribute(method === "POST" ? "hx-post" : "hx-get");
    var options = { method: method, headers: { "HX-Request": "true" }, credentials: "same-origin" };
    var form = el.tagName === "FORM" ? el : el.closest("form");
    if (method === "POST") {
      options.headers["X-CSRF-Token"] = csrfToken();
      options.headers["Content-Type"] = "application/x-www-form-urlencoded";
      options.body = form ? new URLSearchParams(new FormData(form)).toString() : "";
    } else if (el.tagName === "FORM") {
      // A GET form (a search) sends its fields in the query string, as the browser would.
      var query = new URLSearchParams(new FormData(el)).toString();
      if (query) url += (url.indexOf("?") === -1 ? "?" : "&") + query;
    }
    var target = resolveTarget(el);
    if (!target) return;
    el.setAttribute("aria-busy", "true");
    fetch(url, options)
      .then(function (resp) {
        // Read the whole body first: leaving it unread would abort the request.
        return resp.text().then(function (text) {
          return { ok: resp.ok, status: resp.status, text: text, redirect: resp.headers.get("HX-Redirect"), url: resp.redirected ? resp.url : null };
        });
      })
      .then(function (result) {
        if (result.redirect) { window.location = result.redirect; return; }
        if (result.url) { window.location = result.url; return; }
        // A polled page that is gone (a deleted contact) is reloaded to show why.
        if (!result.ok && el.__polling) { window.location.reload(); return; }
        // Forms shown again with their messages (422) are swapped in like any fragment.
        if (result.ok || result.status === 422) {
          swap(target, result.text, el.getAttribute("hx-swap") || "innerHTML", el.getAttribute("hx-select"));
        } else {
          target.insertAdjacentHTML("afterbegin", '<p class="error" role="alert"></p>');
          target.firstElementChild.textContent = "The server answered " + result.status + ". Reload the page and try again.";
        }
      })
      .catch(function () {
        target.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">The server could not be reached. Check your connection and try again.</p>');
      })
      .finally(function () { el.removeAttribute("aria-busy"); });
    if (event) event.preventDefault();
  }

  function bind(el) {
    if (el.__hxBound) return;
    el.__hxBound = true;
    var spec = el.getAttribute("hx-trigger") || (el.tagName === "FORM" ? "submit" : el.matches("input,select,textarea") ? "change" : "click");
    var once = /\bonce\b/.test(spec);
    var every = spec.match(/every\s+(\d+(?:\.\d+)?)s/);
    if (every) {
      el.__polling = true;
      var timer = setInterval(function () {
        if (!document.body.contains(el)) { clearInterval(timer); return; }
        request(el, null);
      }, parseFloat(every[1]) * 1000);
      return;
    }
    var name = spec.split(/\s+/)[0];
    if (name === "load") { request(el, null); return; }
    var fired = false;
    el.addEventListener(name, function (event) {
      if (name === "toggle" && !el.open) return;
      if (once && fired) return;
      fired = true;
      request(el, name === "toggle" ? null : event);
    });
  }

  function process(root) {
    if (!root || !root.querySelectorAll) return;
    var selector = "[hx-get],[hx-post]";
    if (root.matches && root.matches(selector)) bind(root);
    root.querySelectorAll(selector).forEach(bind);
    root.querySelectorAll("button[data-confirm]").forEach(function (button) {
      if (button.__confirmBound) return;
      button.__confirmBound = true;
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.__confirmBound) return;
      form.__confirmBound = true;
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function closePanel() {
    var host = document.getElementById("panel");
    if (host && host.firstElementChild) { host.replaceChildren(); return true; }
    return false;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-close-panel]");
    if (link && link.closest("#panel") && closePanel()) event.preventDefault();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches('input[name="message_types"]')) {
      var form = el.closest("form");
      if (form) form.dataset.typesTouched = "1";
      return;
    }
    if (!el.matches("select[data-suggest-types]")) return;
    var form = el.closest("form");
    var option = el.options[el.selectedIndex];
    if (!form || !option || form.dataset.typesTouched) return;
    var wanted = (option.getAttribute("data-suggest") || "").split(" ");
    form.querySelectorAll('input[name="message_types"]').forEach(function (box) {
      box.checked = wanted.indexOf(box.value) !== -1;
    });
  });

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () { process(document.body); });
})();
