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

  function sourceList(items, heading) {
    var box = el("div", "qa-sources");
    box.appendChild(el("div", "qa-sources-title", heading));
    var list = el("ol");
    items.forEach(function (c) {
      var item = el("li");
      var link = el("a", "qa-source", "[" + c.n + "] " + (c.title || c.doc_id));
      if (/^https?:\/\//.test(c.url || "")) link.href = c.url;
      link.target = "_blank";
      link.rel = "noopener";
      item.appendChild(link);
      if (c.doc_number) item.appendChild(el("span", "qa-docno", c.doc_number));
      if (c.heading_path) item.appendChild(el("span", "qa-heading", c.heading_path));
      var quote = (c.quote || "").replace(/\s+/g, " ");
      item.appendChild(el("blockquote", "qa-quote", quote.length > 160 ? quote.slice(0, 159) + " …" : quote));
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function feedbackBar(data, history) {
    var bar = el("div", "qa-feedback");
    var up = el("button", "", "👍 有用");
    var down = el("button", "", "👎 没用");
    up.type = down.type = "button";
    up.title = "有帮助"; down.title = "没有帮助";
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
        }
      }).catch(function (error) { note.textContent = error.message; });
    }
    up.addEventListener("click", function () { rate("up", up); });
    down.addEventListener("click", function () { rate("down", down); });
    bar.appendChild(up); bar.appendChild(down); bar.appendChild(note);
    return bar;
  }

  function showAnswer(bubble, data, history) {
    bubble.textContent = "";
    if (data.searched_question && data.searched_question !== data.question) {
      bubble.appendChild(el("div", "qa-searched", "检索问题：" + data.searched_question));
    }
    bubble.appendChild(el("div", "qa-answer", data.answer));
    if (data.notice) bubble.appendChild(el("div", "qa-notice", data.notice));
    if (data.abstained && data.related && data.related.length) {
      bubble.appendChild(sourceList(data.related, "可能相关的段落"));
    } else if (data.citations && data.citations.length) {
      bubble.appendChild(sourceList(data.citations, "来源"));
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
    messages.appendChild(el("div", "qa-msg qa-user", question));
    var bubble = el("div", "qa-msg qa-bot", "正在查找…");
    messages.appendChild(bubble);
    scrollDown();
    send.disabled = true;
    var history = asked.slice();
    askStreaming({ question: question, history: history }, bubble)
      .then(function (data) {
        asked.push(question);
        showAnswer(bubble, data, history);
      })
      .catch(function (error) {
        bubble.textContent = "";
        bubble.appendChild(el("div", "qa-error", error.message || "请求失败"));
      })
      .then(function () { send.disabled = false; scrollDown(); input.focus(); });
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
