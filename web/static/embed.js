/*
 * 政策问答 embed script. One tag in any page adds a floating button that opens the chat widget:
 *   <script src="http://HOST:PORT/embed.js" data-title="政策问答" data-color="#1f6feb"
 *           data-position="right"></script>
 * The widget's address is derived from this script's own src, so nothing else is configured.
 */
(function () {
  "use strict";
  if (window.__policyQaEmbed) return;
  var script = document.currentScript;
  if (!script) {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/embed\.js(\?|#|$)/.test(scripts[i].src)) { script = scripts[i]; break; }
    }
  }
  if (!script || !script.src) return;
  window.__policyQaEmbed = true;

  var base = script.src.replace(/embed\.js([?#].*)?$/, "");
  var title = (script.getAttribute("data-title") || "政策问答").slice(0, 40);
  var color = script.getAttribute("data-color") || "";
  if (!/^#[0-9a-fA-F]{3,8}$/.test(color)) color = "#1f6feb";
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";

  var style = document.createElement("style");
  style.textContent =
    "#policyqa-launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;height:48px;" +
    "padding:0 18px;border:0;border-radius:24px;background:" + color + ";color:#fff;font-size:15px;" +
    "font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    "#policyqa-panel{position:fixed;bottom:80px;" + side + ":20px;z-index:2147483000;width:380px;" +
    "height:560px;max-height:calc(100vh - 100px);border-radius:12px;overflow:hidden;background:#fff;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.3);display:none}" +
    "#policyqa-panel.policyqa-open{display:block}" +
    "#policyqa-panel iframe{width:100%;height:100%;border:0;display:block}" +
    "@media (max-width:480px){#policyqa-panel{left:0;right:0;bottom:0;top:0;width:auto;height:auto;" +
    "max-height:none;border-radius:0}#policyqa-panel.policyqa-open~#policyqa-launcher," +
    "#policyqa-launcher.policyqa-open{bottom:auto;top:8px;height:36px;padding:0 12px}}";
  document.head.appendChild(style);

  var panel = document.createElement("div");
  panel.id = "policyqa-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var button = document.createElement("button");
  button.id = "policyqa-launcher";
  button.type = "button";
  button.textContent = title;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "policyqa-panel");

  button.addEventListener("click", function () {
    if (!panel.firstChild) {
      var frame = document.createElement("iframe");
      frame.title = title;
      frame.setAttribute("allow", "clipboard-write");  // the widget's copy button
      frame.src = base + "widget?title=" + encodeURIComponent(title) + "&color=" + encodeURIComponent(color);
      panel.appendChild(frame);
    }
    var open = !panel.classList.contains("policyqa-open");
    panel.classList.toggle("policyqa-open", open);
    button.classList.toggle("policyqa-open", open);
    button.textContent = open ? "× 关闭" : title;
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
