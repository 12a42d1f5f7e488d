// The reply assistant's page. Customer text is data: it only ever reaches the page through
// textContent and value, never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const state = { recordId: null, report: null, current: null, dismissed: [], approved: null, timer: null, commitments: [], confirmed: new Set() };

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON: reported below */ }
  if (!response.ok) throw new Error((data && data.error) || "The server answered " + response.status + ".");
  return data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function say(target, text, isError) {
  target.textContent = text;
  target.classList.toggle("error", Boolean(isError));
}

function badges(c) {
  const box = $("badges");
  box.replaceChildren();
  const why = (label) => c.cues.filter((q) => q.label === label).map((q) => q.text).join(", ");
  const add = (text, cls, title) => { const b = el("span", text, "badge " + (cls || "")); if (title) b.title = title; b.dataset.badge = text; box.append(b); };
  add(c.category, "category", why(c.category) || "no strong cue: the closest fit");
  add("urgency: " + c.urgency, c.urgency);
  add(c.sentiment, c.sentiment, why(c.sentiment));
  for (const s of c.escalation_signals) add(s, "signal", why(s));
  if (c.desired_outcome) add("wants " + c.desired_outcome, "");
}

function highlight() {
  const text = $("reply").value;
  const layer = $("highlights");
  layer.replaceChildren();
  let at = 0;
  const findings = (state.report ? state.report.findings : []).slice().sort((a, b) => a.start - b.start);
  for (const f of findings) {
    if (f.start < at || f.end > text.length || text.slice(f.start, f.end) !== f.text) continue;
    layer.append(document.createTextNode(text.slice(at, f.start)));
    layer.append(el("mark", text.slice(f.start, f.end), f.severity));
    at = f.end;
  }
  layer.append(document.createTextNode(text.slice(at) + "\n"));
  $("backdrop").scrollTop = $("reply").scrollTop;
}

function showFindings() {
  const list = $("findings");
  list.replaceChildren();
  const findings = state.report ? state.report.findings : [];
  for (const f of findings) {
    const item = el("li", "", f.severity);
    item.append(el("strong", f.rule + " "), document.createTextNode(f.severity + ": "), el("q", f.text));
    item.dataset.rule = f.rule;
    item.addEventListener("click", () => select(f));
    list.append(item);
  }
  updateApprove();
  highlight();
}

function showCommitments() {
  const list = $("commitments");
  list.replaceChildren();
  // A confirmation holds while the reply still makes the same commitment in the same words.
  const texts = new Set(state.commitments.map((c) => c.text));
  state.confirmed = new Set([...state.confirmed].filter((t) => texts.has(t)));
  for (const c of state.commitments) {
    const item = el("li");
    const box = el("input");
    box.type = "checkbox";
    box.checked = state.confirmed.has(c.text);
    box.disabled = Boolean(state.approved);
    box.addEventListener("change", () => {
      if (box.checked) state.confirmed.add(c.text); else state.confirmed.delete(c.text);
      updateApprove();
    });
    const label = el("label");
    label.append(box, document.createTextNode(" " + c.action + " (" + (c.done ? "claims done" : "promises") + (c.when ? ", " + c.when : "") + "): "), el("q", c.text));
    item.append(label);
    list.append(item);
  }
  $("commitments-box").classList.toggle("hidden", state.commitments.length === 0);
  updateApprove();
}

function showSources(sources) {
  const list = $("sources");
  list.replaceChildren();
  for (const s of sources) {
    const item = el("li");
    if (s.url && /^https?:\/\//.test(s.url)) {
      const link = el("a", s.title);
      link.href = s.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      item.append(link);
    } else {
      item.append(el("span", s.title));
    }
    item.append(document.createTextNode(" (" + s.kind + ", " + s.path + ")"));
    list.append(item);
  }
  $("sources-box").classList.toggle("hidden", sources.length === 0);
}

function showNotes(notes) {
  const list = $("notes");
  list.replaceChildren();
  for (const n of notes) list.append(el("li", n));
}

function unconfirmed() {
  return state.commitments.filter((c) => !state.confirmed.has(c.text)).length;
}

function updateApprove() {
  const errors = state.report ? state.report.findings.filter((f) => f.severity === "error").length : 0;
  const blocked = errors > 0 || unconfirmed() > 0;
  $("override-box").classList.toggle("hidden", !blocked || Boolean(state.approved));
  $("approve").disabled = Boolean(state.approved) || (blocked && !$("override").value.trim());
}

function select(f) {
  state.current = f;
  $("finding").classList.remove("hidden");
  $("finding-rule").textContent = f.rule;
  $("finding-severity").textContent = f.severity;
  $("finding-message").textContent = f.message;
  $("finding-suggestion").textContent = f.suggestion || "(no suggestion: rewrite it in your own words)";
  $("apply").disabled = !f.suggestion;
  const reply = $("reply");
  reply.focus();
  reply.setSelectionRange(f.start, f.end);
}

function findingAtCaret() {
  const pos = $("reply").selectionStart;
  const f = (state.report ? state.report.findings : []).find((x) => x.start <= pos && pos <= x.end);
  if (f) select(f); else $("finding").classList.add("hidden");
}

async function relint() {
  try {
    const text = $("reply").value;
    const [report, commitments] = await Promise.all([
      api("api/lint", { text, record_id: state.recordId }),
      api("api/commitments", { text }),
    ]);
    state.report = report;
    state.commitments = commitments;
    showCommitments();
    // A dismissal holds while the same rule still matches the same words.
    state.report.findings = state.report.findings.filter(
      (f) => !state.dismissed.some((d) => d.rule === f.rule && d.text === f.text));
    showFindings();
  } catch (e) {
    say($("decision"), e.message, true);
  }
}

function scheduleLint() {
  highlight();
  clearTimeout(state.timer);
  state.timer = setTimeout(relint, 250);
}

function showResult(data) {
  state.recordId = data.record_id;
  state.approved = null;
  state.dismissed = [];
  state.report = data.result.lint;
  state.commitments = data.result.commitments;
  state.confirmed = new Set();
  badges(data.result.classification);
  $("meta-goal").textContent = data.result.meta_goal;
  $("reply").value = data.result.reply;
  $("review").classList.remove("hidden");
  $("finding").classList.add("hidden");
  $("copy").disabled = true;
  $("reply").readOnly = false;
  say($("decision"), "");
  showFindings();
  showCommitments();
  showSources(data.result.sources);
  showNotes(data.result.notes);
}

async function draft() {
  const email = $("email").value;
  if (!email.trim()) { say($("status"), "Paste the customer's email first.", true); return; }
  say($("status"), "Drafting…");
  $("draft").disabled = true;
  try {
    showResult(await api("api/draft", { email }));
    say($("status"), "");
  } catch (e) {
    // The pasted email stays in its box: nothing is lost.
    say($("status"), e.message, true);
  } finally {
    $("draft").disabled = false;
  }
}

async function approve() {
  if ($("approve").disabled) return;
  try {
    const record = await api("api/approve", {
      record_id: state.recordId,
      reply: $("reply").value,
      override_reason: $("override").value.trim() || null,
      dismissed: state.dismissed,
      confirmed: [...state.confirmed],
    });
    state.approved = record.final_reply;
    $("reply").value = record.final_reply;
    $("reply").readOnly = true;
    $("copy").disabled = false;
    $("override-box").classList.add("hidden");
    showCommitments();
    say($("decision"), "Approved (record " + record.id + ").");
    updateApprove();
    highlight();
  } catch (e) {
    say($("decision"), e.message, true);
  }
}

async function copyReply() {
  if (!state.approved) return;
  try {
    await navigator.clipboard.writeText(state.approved);
  } catch (_) {
    const area = el("textarea");
    area.value = state.approved;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  say($("decision"), "Copied to the clipboard.");
}

async function regenerate() {
  say($("decision"), "Regenerating…");
  try { showResult(await api("api/regenerate", { record_id: state.recordId })); }
  catch (e) { say($("decision"), e.message, true); }
}

async function reject() {
  const reason = window.prompt("Why reject this draft?");
  if (!reason || !reason.trim()) return;
  try {
    const record = await api("api/reject", { record_id: state.recordId, reason });
    say($("decision"), "Rejected (record " + record.id + ").");
    $("approve").disabled = true;
  } catch (e) { say($("decision"), e.message, true); }
}

function applySuggestion() {
  const f = state.current;
  if (!f || !f.suggestion) return;
  const reply = $("reply");
  if (reply.value.slice(f.start, f.end) !== f.text) return;
  reply.value = reply.value.slice(0, f.start) + f.suggestion + reply.value.slice(f.end);
  $("finding").classList.add("hidden");
  scheduleLint();
}

function dismissCurrent() {
  const f = state.current;
  if (!f) return;
  const reason = window.prompt("Why is \u201c" + f.text + "\u201d right here?");
  if (!reason || !reason.trim()) return;
  state.dismissed.push({ rule: f.rule, text: f.text, reason });
  state.report.findings = state.report.findings.filter((x) => x !== f);
  $("finding").classList.add("hidden");
  showFindings();
}

function readDroppedFile(event) {
  event.preventDefault();
  $("intake").classList.remove("dragging");
  const file = event.dataTransfer.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { $("email").value = reader.result; say($("status"), "Loaded " + file.name + "."); };
  reader.readAsText(file);
}

document.addEventListener("DOMContentLoaded", () => {
  if (token) $("history-link").href = "history?token=" + encodeURIComponent(token);
  $("draft").addEventListener("click", draft);
  $("approve").addEventListener("click", approve);
  $("copy").addEventListener("click", copyReply);
  $("regenerate").addEventListener("click", regenerate);
  $("reject").addEventListener("click", reject);
  $("apply").addEventListener("click", applySuggestion);
  $("dismiss").addEventListener("click", dismissCurrent);
  $("override").addEventListener("input", updateApprove);
  $("reply").addEventListener("input", scheduleLint);
  $("reply").addEventListener("click", findingAtCaret);
  $("reply").addEventListener("keyup", (e) => { if (e.key.startsWith("Arrow")) findingAtCaret(); });
  $("reply").addEventListener("scroll", () => { $("backdrop").scrollTop = $("reply").scrollTop; });
  const intake = $("intake");
  intake.addEventListener("dragover", (e) => { e.preventDefault(); intake.classList.add("dragging"); });
  intake.addEventListener("dragleave", () => intake.classList.remove("dragging"));
  intake.addEventListener("drop", readDroppedFile);
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); approve(); }
    if ((e.ctrlKey || e.metaKey) && e.shiftKey && (e.key === "C" || e.key === "c")) { e.preventDefault(); copyReply(); }
  });
});
