/* ordermill admin: small conveniences on top of pages that work without JavaScript.
 * - [data-dialog] links open their <dialog> instead of the dialog's own page;
 * - forms with data-preview-url ask the server for the core's dry run as fields change and
 *   show its total (money is never computed here);
 * - select-all / selected count on the orders table; data-confirm; "add another product".
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  /* The page's translated texts (base.html's #admin-i18n JSON block): t("key", {name: v}). */
  var texts = null;
  function t(key, params) {
    if (texts === null) {
      var block = document.getElementById("admin-i18n");
      try { texts = block ? JSON.parse(block.textContent) : {}; } catch (e) { texts = {}; }
    }
    var text = texts[key] || key;
    return text.replace(/%\(([a-z_]+)\)s/g, function (all, name) {
      return params && params[name] !== undefined ? String(params[name]) : all;
    });
  }

  function setText(root, selector, text) {
    var el = root.querySelector(selector);
    if (el) { el.textContent = text; }
  }

  /* ---- live previews through the server's dry run ---- */
  function preview(form) {
    var url = form.getAttribute("data-preview-url");
    var box = form.querySelector("[data-preview]");
    var errorBox = form.querySelector("[data-form-error]");
    if (!url || !box) { return; }
    var ticked = form.querySelectorAll('input[name="line_ids"]:checked').length;
    var amount = form.querySelector('input[name="amount"]');
    var hasLinePicker = form.querySelector('input[name="line_ids"]') !== null;
    if (hasLinePicker && ticked === 0 && !(amount && amount.value.trim())) {
      box.classList.remove("has-result");
      box.setAttribute("data-state", "idle");
      setText(box, "[data-preview-total]", "—");
      setText(box, "[data-preview-message]", t("tick_lines"));
      setText(box, "[data-preview-detail]", "");
      if (errorBox) { errorBox.hidden = true; }
      return;
    }
    var seq = (form._previewSeq || 0) + 1;
    form._previewSeq = seq;
    box.setAttribute("data-state", "loading");
    var body = new FormData(form);
    body.delete("preview");
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, error: t("server_answered", { status: response.status }) }; });
    }).then(function (data) {
      if (seq !== form._previewSeq) { return; }  /* a newer preview is on its way */
      if (!data.ok) {
        box.classList.remove("has-result");
        setText(box, "[data-preview-total]", "—");
        setText(box, "[data-preview-message]", "");
        setText(box, "[data-preview-detail]", "");
        if (errorBox) { errorBox.textContent = data.error || t("not_possible"); errorBox.hidden = false; }
        box.setAttribute("data-state", "error");
        return;
      }
      if (errorBox) { errorBox.hidden = true; }
      box.classList.add("has-result");
      setText(box, "[data-preview-total]", data.amount_refunded_display || "—");
      setText(box, "[data-preview-message]", data.message || "");
      var detail = [];
      if (data.status_from !== data.status_to) { detail.push(t("status_change", { old: data.status_from, new: data.status_to })); }
      if (data.summary_to) { detail.push(t("summary", { summary: data.summary_to })); }
      var stock = Object.keys(data.stock_released || {}).map(function (sku) { return sku + " ×" + data.stock_released[sku]; });
      if (stock.length) { detail.push(t("stock_back", { items: stock.join(", ") })); }
      (data.refunds || []).forEach(function (refund) {
        detail.push(t(refund.automatic ? "refund_automatic" : (refund.not_configured ? "refund_not_configured" : "refund_by_hand"), { amount: refund.amount, gateway: refund.gateway }) + ".");
      });
      setText(box, "[data-preview-detail]", detail.join(" "));
      box.setAttribute("data-state", "ready");
    }).catch(function () {
      if (seq !== form._previewSeq) { return; }
      box.setAttribute("data-state", "error");
      if (errorBox) { errorBox.textContent = t("no_preview"); errorBox.hidden = false; }
    });
  }

  function wirePreview(form) {
    var timer = null;
    function later() {
      clearTimeout(timer);
      timer = setTimeout(function () { preview(form); }, 200);
    }
    form.addEventListener("change", later);
    form.addEventListener("input", function (event) {
      var target = event.target;
      if (target && /^quantity_\d+$/.test(target.name || "")) {
        /* picking how many units of a line ticks that line */
        var box = form.querySelector('input[name="line_ids"][value="' + target.name.slice(9) + '"]');
        if (box && !box.disabled) { box.checked = true; }
      }
      if (target && target.type !== "checkbox" && target.type !== "radio") { later(); }
    });
  }

  ready(function () {
    /* the top bar's menu: folded behind its button on narrow screens (admin.css) */
    document.querySelectorAll("[data-nav-toggle]").forEach(function (button) {
      var bar = button.closest(".topbar");
      button.addEventListener("click", function () {
        var open = bar.classList.toggle("nav-open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });

    /* dialogs */
    document.querySelectorAll("[data-dialog]").forEach(function (link) {
      var dialog = document.getElementById(link.getAttribute("data-dialog"));
      if (!dialog || typeof dialog.showModal !== "function") { return; }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.showModal();
        var form = dialog.querySelector("form[data-preview-open]");
        if (form) { preview(form); }  /* nothing to choose: show what Confirm will do */
        var first = dialog.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
        if (first) { first.focus(); }
      });
    });
    document.querySelectorAll("dialog [data-close]").forEach(function (button) {
      button.addEventListener("click", function () { button.closest("dialog").close(); });
    });
    document.querySelectorAll("form[data-preview-url]").forEach(wirePreview);

    /* confirmations */
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });

    /* orders table: select all, count */
    var bulk = document.getElementById("bulk-form");
    if (bulk) {
      var all = bulk.querySelector("[data-select-all]");
      var boxes = bulk.querySelectorAll('input[name="numbers"]');
      var bar = bulk.querySelector("[data-bulkbar]");
      var count = function () {
        var n = bulk.querySelectorAll('input[name="numbers"]:checked').length;
        if (bar) {
          setText(bar, "[data-selected-count]", String(n));
          bar.classList.toggle("active", n > 0);
        }
        if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
      };
      if (all) {
        all.addEventListener("change", function () {
          boxes.forEach(function (box) { box.checked = all.checked; });
          count();
        });
      }
      boxes.forEach(function (box) { box.addEventListener("change", count); });
      count();
    }

    /* product rows: add another */
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.addEventListener("click", function () {
        var form = button.closest("form");
        var rows = form.querySelectorAll("[data-product-row]");
        var last = rows[rows.length - 1];
        var copy = last.cloneNode(true);
        copy.querySelectorAll("input").forEach(function (input) { input.value = input.name === "quantity" ? "1" : ""; });
        copy.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
        last.parentNode.appendChild(copy);
      });
    });

    /* Add New Order: choose the customer through a search box (never a list of all) */
    document.querySelectorAll("[data-customer-picker]").forEach(function (picker) {
      var search = picker.querySelector("[data-customer-search]");
      var results = picker.querySelector("[data-customer-results]");
      var hidden = picker.querySelector("[data-customer-id]");
      var chosen = picker.querySelector("[data-customer-chosen]");
      var finder = picker.querySelector("[data-customer-finder]");
      var timer = null;
      if (!search || !results || !hidden) { return; }
      function choose(customer) {
        hidden.value = customer ? customer.id : "";
        picker.querySelector("[data-customer-label]").textContent = customer
          ? customer.name + " · " + customer.email + (customer.company ? " · " + customer.company : "") : "";
        chosen.hidden = !customer;
        finder.hidden = !!customer;
        results.innerHTML = "";
        if (!customer) { search.focus(); }
      }
      picker.querySelector("[data-customer-clear]").addEventListener("click", function () { choose(null); });
      search.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
      search.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var q = search.value.trim();
          if (q.length < 2) { results.innerHTML = ""; return; }
          fetch(picker.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
            .then(function (response) { return response.ok ? response.json() : []; })
            .then(function (found) {
              results.innerHTML = "";
              if (!found.length) {
                var none = document.createElement("li");
                none.className = "muted";
                none.textContent = t("no_customer_match");
                results.appendChild(none);
              }
              found.forEach(function (customer) {
                var item = document.createElement("li");
                var button = document.createElement("button");
                button.type = "button";
                button.className = "btn btn-small btn-quiet customer-match";
                button.setAttribute("data-testid", "customer-match");
                button.textContent = customer.name + " · " + customer.email + (customer.company ? " · " + customer.company : "");
                button.addEventListener("click", function () { choose(customer); });
                item.appendChild(button);
                results.appendChild(item);
              });
            });
        }, 200);
      });
    });

    /* customer page link: copy it */
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var done = function () { button.textContent = button.dataset.copied || t("copied"); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(button.dataset.copy).then(done);
        } else {
          var field = button.closest(".card").querySelector("input[readonly]");
          if (field) { field.select(); document.execCommand("copy"); done(); }
        }
      });
    });

    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });

    /* the language switch sends itself when a language is chosen */
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
}());
