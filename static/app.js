// rd-contacts: our small htmx-style helper. Pages work without it; with it, elements
// that carry hx-* attributes fetch server-rendered fragments and swap them in.
//
//   hx-get / hx-post   URL to request (forms send their fields; POSTs carry the CSRF header)
//   hx-include         with hx-get on a button: a selector of fields to send in the query
//   hx-target          "this", a CSS selector, "find <sel>" or "closest <sel>"
//   hx-select          take only this part of the response
//   hx-swap            innerHTML (default), outerHTML, beforeend
//   hx-trigger         click | submit | change | load | toggle, "once", or "every Ns" (polling)
//   hx-confirm         ask before sending
//   hx-swap-oob        on an element of a response: it replaces the element with its id
//                      ("true"), or that element's content ("innerHTML")
// A plain form or button with data-confirm asks before it submits.
//
// The side panel (#panel) is a modal dialog: the page behind it is inert, focus moves
// into it (to the first field in error, or the first field), Escape, the backdrop and
// data-close-panel links close it, and focus returns to what opened it.
// A field marked aria-invalid loses its error as soon as it is edited.
// A row swapped after a save keeps the focus and whatever was typed in it meanwhile.
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

  // ------------------------------------------------------------ fields kept across a swap

  // A field's key inside its form: its name and its position among fields of that name.
  function fieldKey(form, field) {
    if (field.id) return "#" + field.id;
    if (!field.name) return null;
    var same = Array.prototype.filter.call(form.elements, function (f) { return f.name === field.name; });
    return field.name + "@" + same.indexOf(field) + (field.type === "checkbox" ? ":" + field.value : "");
  }

  function fieldByKey(form, key) {
    if (!form || !form.elements || !key) return null;
    if (key.charAt(0) === "#") return form.querySelector(key);
    var m = key.match(/^(.*)@(\d+)(?::(.*))?$/);
    if (!m) return null;
    var same = Array.prototype.filter.call(form.elements, function (f) { return f.name === m[1]; });
    return same[parseInt(m[2], 10)] || null;
  }

  function valueOf(field) {
    return field.type === "checkbox" || field.type === "radio" ? String(field.checked) : field.value;
  }

  function snapshot(form) {
    var values = {};
    if (!form || !form.elements) return values;
    Array.prototype.forEach.call(form.elements, function (f) {
      var key = fieldKey(form, f);
      if (key) values[key] = valueOf(f);
    });
    return values;
  }

  // Moves into `fresh` (the swapped-in form) what the person changed in `old` after the
  // request left, and the focus if it was inside.
  function carryOver(old, fresh, sent) {
    if (!old || !fresh || !old.elements || !fresh.elements) return;
    Array.prototype.forEach.call(old.elements, function (f) {
      var key = fieldKey(old, f);
      if (!key || !(key in sent) || sent[key] === valueOf(f)) return;
      var twin = fieldByKey(fresh, key);
      if (!twin) return;
      if (f.type === "checkbox" || f.type === "radio") twin.checked = f.checked;
      else twin.value = f.value;
    });
    var active = document.activeElement;
    if (active && old.contains(active)) {
      var same = fieldByKey(fresh, fieldKey(old, active));
      if (same) {
        var start = active.selectionStart, end = active.selectionEnd;
        setTimeout(function () {
          same.focus();
          try { if (start != null) same.setSelectionRange(start, end); } catch (e) { /* not a text field */ }
        }, 0);
      }
    }
  }

  // ------------------------------------------------------------ swapping

  function swapOutOfBand(content) {
    Array.prototype.slice.call(content.querySelectorAll("[hx-swap-oob]")).forEach(function (el) {
      var how = el.getAttribute("hx-swap-oob");
      el.removeAttribute("hx-swap-oob");
      var there = el.id && document.getElementById(el.id);
      el.remove();
      if (!there) return;
      if (how === "innerHTML") {
        there.replaceChildren.apply(there, Array.prototype.slice.call(el.childNodes));
        process(there);
      } else {
        there.replaceWith(el);
        process(el);
      }
    });
  }

  function swap(target, html, how, select, sent) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var content = tpl.content;
    swapOutOfBand(content);
    if (select) {
      var picked = content.querySelector(select);
      content = document.createDocumentFragment();
      if (picked) content.appendChild(picked);
    }
    if (how === "outerHTML") {
      var first = content.firstElementChild;
      if (first && target.tagName === "FORM" && first.tagName === "FORM" && target.contains(document.activeElement)) {
        // The person is still in this row: replacing it now would take their focus (and
        // the caret) away. The row is replaced once they leave it; until then it only
        // says it is saved.
        var mark = first.querySelector(".saved");
        var actions = target.querySelector(".row-actions");
        if (mark && !target.querySelector(".saved") && actions) actions.insertBefore(mark.cloneNode(true), actions.firstChild);
        // A change the server asks about before saving ("nobody would receive…") is shown
        // at once, with its buttons, in the row the person is in.
        var asked = target.querySelector(".row-actions [role=alert]");
        if (asked) asked.remove();
        var asking = first.querySelector(".row-actions [role=alert]");
        if (asking && actions) actions.insertBefore(asking.cloneNode(true), actions.firstChild);
        target.__pending = { fresh: first, sent: sent || {} };
        if (!target.__waiting) {
          target.__waiting = true;
          target.addEventListener("focusout", function later(event) {
            if (event.relatedTarget && target.contains(event.relatedTarget)) return;
            target.removeEventListener("focusout", later);
            target.__waiting = false;
            var pending = target.__pending;
            target.__pending = null;
            if (!pending || !document.body.contains(target)) return;
            carryOver(target, pending.fresh, pending.sent);
            target.replaceWith(pending.fresh);
            process(pending.fresh);
          });
        }
        return;
      }
      if (first && target.tagName === "FORM" && first.tagName === "FORM") carryOver(target, first, sent || {});
      target.replaceWith(content);
      if (first) process(first);
    } else if (how === "beforeend") {
      var added = Array.prototype.slice.call(content.children);
      target.appendChild(content);
      added.forEach(process);
    } else {
      target.replaceChildren(content);
      process(target);
    }
    scrollables();
  }

  function request(el, event) {
    var confirmText = el.getAttribute("hx-confirm");
    if (confirmText && !window.confirm(confirmText)) { if (event) event.preventDefault(); return; }
    var method = el.hasAttribute("hx-post") ? "POST" : "GET";
    var url = el.getAttribute(method === "POST" ? "hx-post" : "hx-get");
    var options = { method: method, headers: { "HX-Request": "true" }, credentials: "same-origin" };
    var form = el.tagName === "FORM" ? el : el.closest("form");
    var sent = snapshot(form);
    // A button with its own formaction (a row's Remove) sends the form there.
    var submitter = event && event.submitter;
    if (submitter && submitter.hasAttribute("formaction")) url = submitter.getAttribute("formaction");
    if (method === "POST") {
      options.headers["X-CSRF-Token"] = csrfToken();
      options.headers["Content-Type"] = "application/x-www-form-urlencoded";
      options.body = form ? new URLSearchParams(new FormData(form, submitter && submitter.form === form ? submitter : undefined)).toString() : "";
    } else {
      // A GET form (a search) sends its fields in the query string, as the browser would;
      // a button sends the fields its hx-include names.
      var params = new URLSearchParams();
      if (el.tagName === "FORM") params = new URLSearchParams(new FormData(el));
      var include = el.getAttribute("hx-include");
      if (include) {
        document.querySelectorAll(include).forEach(function (f) {
          if (!f.name || f.disabled) return;
          if ((f.type === "checkbox" || f.type === "radio") && !f.checked) return;
          params.append(f.name, f.value);
        });
      }
      var query = params.toString();
      if (query) url += (url.indexOf("?") === -1 ? "?" : "&") + query;
    }
    var target = resolveTarget(el);
    if (!target) return;
    if (event) event.preventDefault();
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
        // Forms shown again with their messages (422, or 409 for a refused bind) are
        // swapped in like any fragment.
        if (result.ok || result.status === 422 || result.status === 409) {
          var opener = el.closest && el.closest("#panel") ? null : el;
          swap(target, result.text, el.getAttribute("hx-swap") || "innerHTML", el.getAttribute("hx-select"), sent);
          if (target.id === "panel") panelShown(opener);
        } else {
          target.insertAdjacentHTML("afterbegin", '<p class="error" role="alert"></p>');
          target.firstElementChild.textContent = "The server answered " + result.status + ". Reload the page and try again.";
        }
      })
      .catch(function () {
        target.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">The server could not be reached. Check your connection and try again.</p>');
      })
      .finally(function () { el.removeAttribute("aria-busy"); });
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
    var picker = root.closest ? root.closest("[data-picker]") : null;
    (picker ? [picker] : Array.prototype.slice.call(root.querySelectorAll("[data-picker]"))).forEach(syncPicks);
  }

  // ------------------------------------------------------------ confirmations

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // ------------------------------------------------------------ the side panel (a modal dialog)

  var panelOpener = null;

  function focusable(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll('a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'),
      function (e) { return e.offsetParent !== null || e === document.activeElement; });
  }

  function setInert(on) {
    document.querySelectorAll("body > header, body > main, body > .skip").forEach(function (e) { e.inert = on; });
    var backdrop = document.getElementById("backdrop");
    if (backdrop) backdrop.hidden = !on;
    document.body.classList.toggle("panel-open", on);
  }

  function panelShown(opener) {
    var host = document.getElementById("panel");
    if (!host || !host.firstElementChild) return;
    if (opener && !panelOpener) panelOpener = opener;
    var dialog = host.firstElementChild;
    var heading = dialog.querySelector("h2[id]");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    if (heading) dialog.setAttribute("aria-labelledby", heading.id);
    setInert(true);
    // After a refused submit: the first field in error, or the summary; otherwise the
    // first field (or the heading).
    var target = host.querySelector('[aria-invalid="true"]:not(fieldset)') ||
      host.querySelector('fieldset[aria-invalid="true"] input') ||
      host.querySelector('.error[role="alert"]') ||
      host.querySelector("[autofocus]") ||
      focusable(host).filter(function (e) { return !e.matches("[data-close-panel]"); })[0] ||
      host.querySelector("h2");
    if (target) {
      if (!focusable(host).includes(target) && !target.matches("input,select,textarea,button,a[href]")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  function closePanel() {
    var host = document.getElementById("panel");
    if (!host || !host.firstElementChild) return false;
    host.replaceChildren();
    setInert(false);
    var back = panelOpener;
    panelOpener = null;
    if (back && document.body.contains(back)) back.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-close-panel]");
    if (link && link.closest("#panel") && closePanel()) { event.preventDefault(); return; }
    if (event.target.id === "backdrop") closePanel();
  });
  document.addEventListener("keydown", function (event) {
    var host = document.getElementById("panel");
    if (!host || !host.firstElementChild) return;
    if (event.key === "Escape") { closePanel(); return; }
    if (event.key !== "Tab") return;
    // Focus stays inside the dialog.
    var inside = focusable(host);
    if (!inside.length) return;
    var first = inside[0], last = inside[inside.length - 1];
    if (event.shiftKey && (document.activeElement === first || !host.contains(document.activeElement))) { last.focus(); event.preventDefault(); }
    else if (!event.shiftKey && (document.activeElement === last || !host.contains(document.activeElement))) { first.focus(); event.preventDefault(); }
  });

  // ------------------------------------------------------------ errors that go once fixed

  function clearError(field) {
    var holder = field.closest('[aria-invalid="true"]');
    if (!holder) return;
    holder.removeAttribute("aria-invalid");
    var ids = (holder.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    var kept = ids.filter(function (id) {
      var note = document.getElementById(id);
      if (note && note.classList.contains("field-error")) { note.remove(); return false; }
      return true;
    });
    if (kept.length) holder.setAttribute("aria-describedby", kept.join(" "));
    else holder.removeAttribute("aria-describedby");
  }

  document.addEventListener("input", function (event) { clearError(event.target); });
  document.addEventListener("change", function (event) {
    var el = event.target;
    clearError(el);
    if (el.matches('input[name="message_types"]')) {
      var typesForm = el.closest("form");
      if (typesForm) typesForm.dataset.typesTouched = "1";
      return;
    }
    // A title's suggested message types, until the person ticks a box themselves.
    if (!el.matches("select[data-suggest-types]")) return;
    var form = el.closest("form");
    var option = el.options[el.selectedIndex];
    if (!form || !option || form.dataset.typesTouched) return;
    var wanted = (option.getAttribute("data-suggest") || "").split(" ");
    form.querySelectorAll('input[name="message_types"]').forEach(function (box) {
      box.checked = wanted.indexOf(box.value) !== -1;
    });
  });

  // ------------------------------------------------------------ a file read into a field
  // <input type="file" data-load-into="id"> puts the chosen file's text into that field
  // (the form sends text; without our script the person pastes it).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("input[type=file][data-load-into]") || !input.files || !input.files[0]) return;
    var target = document.getElementById(input.getAttribute("data-load-into"));
    if (!target) return;
    input.files[0].text().then(function (text) {
      target.value = text;
      clearError(target);
    }, function () {
      target.value = "";
      input.setCustomValidity("This file could not be read.");
      input.reportValidity();
    });
  });

  // ------------------------------------------------------------ the folder tree
  // A list of links made a keyboard tree (the ARIA tree pattern): one Tab stop, arrows
  // move, Right opens a folder (fetching its subfolders once), Left closes it or goes to
  // its parent, Enter opens the folder's page. Opened folders are remembered for Back.

  var OPENED = "rdc-tree-open";

  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(OPENED) || "[]"); } catch (e) { return []; }
  }

  function remember(id, open) {
    var ids = remembered().filter(function (x) { return x !== id; });
    if (open) ids.push(id);
    try { sessionStorage.setItem(OPENED, JSON.stringify(ids.slice(-200))); } catch (e) { /* private mode */ }
  }

  function treeItem(li) {
    if (li.__treeItem) return;
    li.__treeItem = true;
    li.setAttribute("role", "treeitem");
    li.tabIndex = -1;
    li.querySelectorAll(":scope > .node a, :scope > a").forEach(function (a) { a.tabIndex = -1; });
    if (li.hasAttribute("data-children")) li.setAttribute("aria-expanded", li.hasAttribute("data-open") ? "true" : "false");
    if (li.hasAttribute("data-selected")) li.setAttribute("aria-selected", "true");
    li.querySelectorAll(":scope > ul").forEach(function (ul) { ul.setAttribute("role", "group"); });
  }

  function visibleItems(tree) {
    return Array.prototype.filter.call(tree.querySelectorAll('[role="treeitem"]'), function (li) {
      var up = li.parentElement.closest('[role="treeitem"]');
      while (up) {
        if (up.getAttribute("aria-expanded") === "false") return false;
        up = up.parentElement.closest('[role="treeitem"]');
      }
      return true;
    });
  }

  function focusItem(tree, li) {
    tree.querySelectorAll('[role="treeitem"][tabindex="0"]').forEach(function (x) { x.tabIndex = -1; });
    li.tabIndex = 0;
    li.focus();
  }

  function twisty(li, open) {
    var t = li.querySelector(":scope > .node .twisty");
    if (t) t.textContent = open ? "\u25be" : "\u25b8";
  }

  function setOpen(tree, li, open) {
    if (!li.hasAttribute("data-children")) return;
    if (!open) { li.setAttribute("aria-expanded", "false"); twisty(li, false); remember(li.getAttribute("data-folder"), false); return; }
    li.setAttribute("aria-expanded", "true");
    twisty(li, true);
    remember(li.getAttribute("data-folder"), true);
    if (li.querySelector(":scope > ul")) return;
    var group = document.createElement("ul");
    group.setAttribute("role", "group");
    li.appendChild(group);
    li.setAttribute("aria-busy", "true");
    fetch(li.getAttribute("data-children"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        group.innerHTML = html;
        group.querySelectorAll("li").forEach(treeItem);
        reopen(tree, group);
      })
      .catch(function () {
        group.innerHTML = '<li role="treeitem" tabindex="-1" class="more">Could not open this folder. Reload the page and try again.</li>';
      })
      .finally(function () { li.removeAttribute("aria-busy"); });
  }

  // Opens again, under `root`, the folders this tab had opened.
  function reopen(tree, root) {
    var ids = remembered();
    root.querySelectorAll('[role="treeitem"][aria-expanded="false"]').forEach(function (li) {
      if (ids.indexOf(li.getAttribute("data-folder")) !== -1) setOpen(tree, li, true);
    });
  }

  function enhanceTree(tree) {
    if (tree.__tree) return;
    tree.__tree = true;
    tree.setAttribute("role", "tree");
    tree.querySelectorAll("ul").forEach(function (ul) { ul.setAttribute("role", "group"); });
    tree.querySelectorAll("li").forEach(treeItem);
    var start = tree.querySelector('[aria-selected="true"]') || tree.querySelector('[role="treeitem"]');
    if (start) start.tabIndex = 0;
    reopen(tree, tree);
    tree.addEventListener("click", function (event) {
      var t = event.target.closest(".twisty");
      if (!t) return;
      var li = t.closest('[role="treeitem"]');
      setOpen(tree, li, li.getAttribute("aria-expanded") !== "true");
      focusItem(tree, li);
    });
    tree.addEventListener("keydown", function (event) {
      var li = event.target.closest('[role="treeitem"]');
      if (!li || event.altKey || event.ctrlKey || event.metaKey) return;
      var items = visibleItems(tree), i = items.indexOf(li), open = li.getAttribute("aria-expanded");
      var go = null;
      switch (event.key) {
        case "ArrowDown": go = items[i + 1]; break;
        case "ArrowUp": go = items[i - 1]; break;
        case "Home": go = items[0]; break;
        case "End": go = items[items.length - 1]; break;
        case "ArrowRight":
          if (open === "false") setOpen(tree, li, true);
          else if (open === "true") go = li.querySelector(':scope > ul > [role="treeitem"]');
          break;
        case "ArrowLeft":
          if (open === "true") setOpen(tree, li, false);
          else go = li.parentElement.closest('[role="treeitem"]');
          break;
        case "Enter": case " ":
          var link = li.querySelector(":scope > .node a, :scope > a");
          if (link) link.click();
          break;
        default: return;
      }
      event.preventDefault();
      if (go) focusItem(tree, go);
    });
  }

  // ------------------------------------------------------------ Select Objects
  // Ticking a folder or a member adds it to the Selected list, which carries what the form
  // sends; searching again or closing a folder keeps the selection. Without our script the
  // pickers carry themselves.

  function pickKey(key) { return '[data-key="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]'; }

  function refreshPicks(picker) {
    var list = picker.querySelector("#selected-list");
    if (!list) return;
    var n = list.querySelectorAll("li").length;
    var max = parseInt(picker.getAttribute("data-max") || "10", 10);
    var count = picker.querySelector("[data-count]");
    if (count) count.textContent = String(n);
    var tooMany = picker.querySelector("[data-too-many]");
    if (tooMany) tooMany.hidden = n <= max;
    var none = picker.querySelector("[data-none]");
    if (none) none.hidden = n > 0;
  }

  function choose(picker, key, label) {
    var list = picker.querySelector("#selected-list");
    if (!list || list.querySelector(pickKey(key))) return;
    var li = document.createElement("li");
    li.setAttribute("data-key", key);
    var lab = document.createElement("label");
    lab.className = "check";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "target";
    box.value = key;
    box.checked = true;
    box.setAttribute("data-selected", "");
    lab.appendChild(box);
    lab.appendChild(document.createTextNode(" " + label));
    li.appendChild(lab);
    list.appendChild(li);
  }

  function unchoose(picker, key) {
    var li = picker.querySelector("#selected-list " + pickKey(key));
    if (li && li.querySelector("[data-selected]")) li.remove();
    picker.querySelectorAll("input[data-pick]").forEach(function (box) {
      if (box.value === key && !box.disabled) box.checked = false;
    });
  }

  // New pickers (a search, an opened folder) show what is already chosen, and stop
  // carrying themselves.
  function syncPicks(picker) {
    var list = picker.querySelector("#selected-list");
    picker.querySelectorAll("input[data-pick]").forEach(function (box) {
      box.removeAttribute("name");
      if (!box.disabled && list) box.checked = !!list.querySelector(pickKey(box.value));
    });
    refreshPicks(picker);
  }

  document.addEventListener("change", function (event) {
    var el = event.target, picker = el.closest && el.closest("[data-picker]");
    if (!picker) return;
    if (el.matches("input[data-pick]")) {
      if (el.checked) choose(picker, el.value, el.getAttribute("data-label") || el.value);
      else unchoose(picker, el.value);
      refreshPicks(picker);
    } else if (el.matches("input[data-selected]") && !el.checked) {
      unchoose(picker, el.value);
      refreshPicks(picker);
    }
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-picker] a.toggle[data-load]");
    if (!toggle) return;
    event.preventDefault();
    var picker = toggle.closest("[data-picker]"), li = toggle.closest("li");
    var sub = li.querySelector(":scope > ul");
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "\u25be" : "\u25b8";
    if (sub) { sub.hidden = !open; return; }
    if (!open) return;
    sub = document.createElement("ul");
    li.appendChild(sub);
    toggle.setAttribute("aria-busy", "true");
    fetch(toggle.getAttribute("data-load"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { sub.innerHTML = html; syncPicks(picker); })
      .catch(function () { sub.innerHTML = '<li class="error">Could not open this folder. Reload the panel and try again.</li>'; })
      .finally(function () { toggle.removeAttribute("aria-busy"); });
  });

  document.addEventListener("submit", function (event) {
    var picker = event.target.closest && event.target.closest("[data-picker]");
    if (!picker || !event.target.matches("form.search")) return;
    var kept = picker.querySelector('#bind-form input[name="q"]');
    var typed = event.target.querySelector('input[name="q"]');
    if (kept && typed) kept.value = typed.value;
  }, true);

  // A region that scrolls sideways (a wide table on a phone) can be scrolled from the
  // keyboard: it takes the focus only when it does scroll.
  function scrollables() {
    document.querySelectorAll(".scroll-x, .mc-grid").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) el.setAttribute("tabindex", "0");
      else if (el.getAttribute("tabindex") === "0") el.removeAttribute("tabindex");
    });
  }
  window.addEventListener("resize", scrollables);

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    process(document.body);
    document.querySelectorAll("[data-tree]").forEach(enhanceTree);
    scrollables();
    // A panel rendered with the page (a refused submit without script) behaves the same.
    if (document.querySelector("#panel > *")) panelShown(null);
  });
})();
