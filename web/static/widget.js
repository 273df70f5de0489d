/* 政策问答 widget: a compact chat for an iframe. All server text is rendered with textContent. */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var title = (params.get("title") || "政策问答").slice(0, 40);
  var color = params.get("color") || "";
  if (/^#[0-9a-fA-F]{3,8}$/.test(color)) {
    document.documentElement.style.setProperty("--qa-color", color);
  }
  document.getElementById("qa-title").textContent = title;
  document.title = title;

  var messages = document.getElementById("qa-messages");
  var hint = document.getElementById("qa-hint");
  var form = document.getElementById("qa-form");
  var input = document.getElementById("qa-input");
  var send = document.getElementById("qa-send");
  var asked = [];  // earlier questions of this conversation, sent as history for follow-ups

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function scrollDown() { messages.scrollTop = messages.scrollHeight; }

  // Bring the start of a message to the top of the message list (a new answer is read from its start).
  function scrollToStart(node) {
    messages.scrollTop = Math.max(0, node.offsetTop - messages.offsetTop - 8);
  }

  // Inline SVG icons (no emoji: Linux desktops without an emoji font show empty boxes).
  var ICONS = {
    up: "M2 7h3v8H2zM6 15h6.2c.7 0 1.3-.5 1.5-1.2l1.2-4.6c.2-.9-.5-1.7-1.4-1.7H10l.6-3c.1-.8-.5-1.5-1.3-1.5L6 7z",
    down: "M2 1h3v8H2zM6 1h6.2c.7 0 1.3.5 1.5 1.2l1.2 4.6c.2.9-.5 1.7-1.4 1.7H10l.6 3c.1.8-.5 1.5-1.3 1.5L6 9z",
    copy: "M5 1h8a1 1 0 011 1v9h-1.5V2.5H5zM2 4h8a1 1 0 011 1v9a1 1 0 01-1 1H2a1 1 0 01-1-1V5a1 1 0 011-1zm.5 1.5v8h7v-8z"
  };
  function iconButton(icon, label, title) {
    var button = el("button", "qa-icon-button");
    button.type = "button";
    button.title = title || label;
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("width", "14");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[icon]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    button.appendChild(svg);
    button.appendChild(el("span", "", label));
    return button;
  }

  // Text with highlighted spans ([start, end] offsets) as DOM nodes; text only, never HTML.
  function marked(className, text, marks, tag) {
    var box = el("span", className);
    var at = 0;
    (marks || []).slice().sort(function (a, b) { return a[0] - b[0]; }).forEach(function (m) {
      if (m[0] < at) return;
      box.appendChild(document.createTextNode(text.slice(at, m[0])));
      box.appendChild(el(tag || "mark", "", text.slice(m[0], m[1])));
      at = m[1];
    });
    box.appendChild(document.createTextNode(text.slice(at)));
    return box;
  }

  function refs(numbers) {
    return el("sup", "qa-ref", (numbers || []).map(function (n) { return "[" + n + "]"; }).join(""));
  }

  function copyWithSelection(text) {
    var area = el("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("复制失败，请手动选择文字复制"));
  }

  // The clipboard API where the page may use it, else a selected textarea (plain http, older browsers).
  function copyText(text) {
    if (!navigator.clipboard || !window.isSecureContext) return copyWithSelection(text);
    return navigator.clipboard.writeText(text).catch(function () { return copyWithSelection(text); });
  }

  function plainAnswer(data) {
    var lines = [(data.display || data.answer || "").replace(/\*\*/g, "")];
    var sources = data.abstained ? (data.related || []) : (data.citations || []);
    if (sources.length) lines.push("来源：");
    sources.forEach(function (c) {
      lines.push("[" + c.n + "] " + (c.title || c.doc_id) + (c.doc_number ? "（" + c.doc_number + "）" : ""));
    });
    return lines.join("\n");
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || ("请求失败（" + response.status + "）"));
        return data;
      });
    });
  }

  function words(text) { return (text || "").replace(/[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20.,;:!?"'()]+/g, ""); }

  function sourceList(items, heading, lead) {
    var box = el("div", "qa-sources");
    box.appendChild(el("div", "qa-sources-title", heading));
    var list = el("ol");
    items.forEach(function (c) {
      var item = el("li");
      var link = el("a", "qa-source", "[" + c.n + "] " + (c.title || c.doc_id));
      var target = (c.sentence && c.sentence.url) || c.url || "";
      if (/^https?:\/\//.test(target)) link.href = target;
      link.target = "_blank";
      link.rel = "noopener";
      item.appendChild(link);
      if (c.doc_number) item.appendChild(el("span", "qa-docno", c.doc_number));
      if (c.heading_path) item.appendChild(el("span", "qa-heading", c.heading_path));
      var sentence = c.sentence || { text: (c.quote || "").slice(0, 200), marks: [] };
      var quote = el("blockquote", "qa-quote");
      // The lead already states this sentence: mark it whole rather than repeat it as plain text.
      var marks = sentence.marks && sentence.marks.length ? sentence.marks
        : (lead && words(lead) === words(sentence.text) ? [[0, sentence.text.length]] : []);
      quote.appendChild(marked("", sentence.text, marks));
      item.appendChild(quote);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function feedbackBar(data, history) {
    var bar = el("div", "qa-feedback");
    var up = iconButton("up", "有用", "有帮助");
    var down = iconButton("down", "没用", "没有帮助");
    var copy = iconButton("copy", "复制", "复制回答和出处");
    copy.classList.add("qa-copy");
    copy.addEventListener("click", function () {
      copyText(plainAnswer(data)).then(function () { note.textContent = "已复制"; })
        .catch(function (error) { note.textContent = error.message; });
    });
    var note = el("span", "qa-feedback-note");
    var feedbackId = null;
    function rate(rating, button) {
      up.setAttribute("aria-pressed", "false");
      down.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-pressed", "true");
      postJSON("api/feedback", {
        rating: rating, question: data.question, searched_question: data.searched_question,
        answer: data.answer, abstained: data.abstained, history: history, channel: "widget",
        sources: (data.citations || []).map(function (c) {
          return { n: c.n, doc_id: c.doc_id, title: c.title, quote: c.quote, start: c.start, end: c.end };
        })
      }).then(function (saved) {
        feedbackId = saved.id;
        note.textContent = "谢谢反馈";
        if (!bar.querySelector("input")) {
          var comment = el("input");
          comment.placeholder = "补充说明（可选），回车提交";
          comment.maxLength = 500;
          comment.addEventListener("keydown", function (event) {
            if (event.key !== "Enter" || !comment.value.trim() || feedbackId === null) return;
            event.preventDefault();
            postJSON("api/feedback/" + feedbackId + "/comment", { comment: comment.value.trim() })
              .then(function () { note.textContent = "已记录说明"; comment.disabled = true; })
              .catch(function (error) { note.textContent = error.message; });
          });
          bar.appendChild(comment);
          comment.scrollIntoView({ block: "nearest" });
          comment.focus({ preventScroll: true });
        }
      }).catch(function (error) { note.textContent = error.message; });
    }
    up.addEventListener("click", function () { rate("up", up); });
    down.addEventListener("click", function () { rate("down", down); });
    bar.appendChild(up); bar.appendChild(down); bar.appendChild(copy); bar.appendChild(note);
    return bar;
  }

  function showAnswer(bubble, data, history) {
    bubble.textContent = "";
    if (data.searched_question && data.searched_question !== data.question) {
      bubble.appendChild(el("div", "qa-searched", "检索问题：" + data.searched_question));
    }
    var segments = data.lead_segments || [{ text: data.lead || data.answer, strong: false }];
    var lead = el("div", "qa-lead");
    segments.forEach(function (s) { lead.appendChild(s.strong ? el("strong", "", s.text) : document.createTextNode(s.text)); });
    if (data.lead_refs && data.lead_refs.length) lead.appendChild(refs(data.lead_refs));
    bubble.appendChild(lead);
    if (data.supporting && data.supporting.length) {
      var support = el("ul", "qa-answer");
      data.supporting.forEach(function (p) {
        var item = el("li", "", p.text);
        item.appendChild(refs(p.refs));
        support.appendChild(item);
      });
      bubble.appendChild(support);
    }
    if (data.notice) bubble.appendChild(el("div", "qa-notice", data.notice));
    if (data.abstained && data.related && data.related.length) {
      bubble.appendChild(sourceList(data.related, "可能相关的段落"));
    } else if (data.citations && data.citations.length) {
      bubble.appendChild(sourceList(data.citations, "来源", data.lead));
    }
    bubble.appendChild(feedbackBar(data, history));
  }

  // POST api/ask/stream: NDJSON events (start, delta/draft while an LLM writes, then the final
  // answer). Resolves with the final answer; without stream support, falls back to POST api/ask.
  function askStreaming(body, bubble) {
    if (!window.ReadableStream || !window.TextDecoder) return postJSON("api/ask", body);
    return fetch("api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok || !response.body) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          throw new Error(data.error || ("请求失败（" + response.status + "）"));
        });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var draft = null;
      var final = null;
      function handle(line) {
        if (!line.trim()) return;
        var event = JSON.parse(line);
        if (event.type === "start") {
          bubble.textContent = "";
          if (event.searched_question && event.searched_question !== event.question) {
            bubble.appendChild(el("div", "qa-searched", "检索问题：" + event.searched_question));
          }
          draft = el("div", "qa-answer qa-draft", "");
          bubble.appendChild(draft);
          bubble.appendChild(el("div", "qa-notice", "正在生成：引用核对后显示最终回答和出处"));
        } else if ((event.type === "delta" || event.type === "draft") && draft) {
          draft.textContent = event.type === "delta" ? draft.textContent + event.text : event.text;
          scrollDown();
        } else if (event.type === "answer") {
          final = event.answer;
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (!chunk.done) buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split("\n");
          buffer = chunk.done ? "" : lines.pop();
          lines.forEach(handle);
          if (!chunk.done) return pump();
          if (!final) throw new Error("回答中断，请重试");
          return final;
        });
      }
      return pump();
    });
  }

  function ask(question) {
    question = question.trim();
    if (!question) return;
    if (hint) { hint.remove(); hint = null; }
    var asking = el("div", "qa-msg qa-user", question);
    messages.appendChild(asking);
    var bubble = el("div", "qa-msg qa-bot", "正在查找…");
    messages.appendChild(bubble);
    scrollDown();
    send.disabled = true;
    var history = asked.slice();
    askStreaming({ question: question, history: history }, bubble)
      .then(function (data) {
        asked.push(question);
        showAnswer(bubble, data, history);
        scrollToStart(asking);
        return true;
      })
      .catch(function (error) {
        bubble.textContent = "";
        var message = (error.message || "请求失败").replace(/\s*\([A-Za-z][^()]*\)\s*$/, "");
        bubble.appendChild(el("div", "qa-error", message));
      })
      .then(function (answered) {
        send.disabled = false;
        if (!answered) scrollDown();
        input.focus({ preventScroll: true });
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value;
    input.value = "";
    ask(question);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  document.getElementById("qa-new").addEventListener("click", function () {
    asked = [];
    messages.textContent = "";
    messages.appendChild(el("div", "qa-hint", "已开始新对话，请输入问题。"));
    input.focus();
  });

  fetch("api/examples").then(function (r) { return r.ok ? r.json() : { examples: [] }; })
    .then(function (data) {
      var box = document.getElementById("qa-examples");
      (data.examples || []).slice(0, 3).forEach(function (question) {
        var chip = el("button", "qa-example", question);
        chip.type = "button";
        chip.addEventListener("click", function () { ask(question); });
        box.appendChild(chip);
      });
    }).catch(function () {});
})();
