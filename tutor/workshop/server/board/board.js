// The workshop board: reads the live feed (/api/v1/events, server-sent events read through
// fetch so that the token travels in a header, never in a URL) and draws the room.
// The token comes from the URL's fragment once (never sent to the server), is kept in
// sessionStorage, and the fragment is removed from the address bar at once: a projector
// must not show it. Learners' names and headlines are only ever set as text.
"use strict";

(() => {
  const TOKEN_KEY = "k8s-tutor-workshop-token";
  const LARGE_KEY = "k8s-tutor-workshop-large";
  const RENDER_EVERY_MS = 200;

  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    learners: new Map(),
    notices: [],
    workshop: null,
    awayAfter: 60,
    clockOffset: 0, // server time minus this browser's time, in seconds
    connected: false,
    renderQueued: false,
    lastRender: 0,
    abort: null,
  };

  // --- small helpers ------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role" || key === "scope" || key === "title" || key === "type" || key === "id") node.setAttribute(key, String(value));
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function serverNow() {
    return Date.now() / 1000 + state.clockOffset;
  }

  function ago(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  }

  function clock(at) {
    if (!at) return "";
    return new Date((at - state.clockOffset) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function statusOf(learner, now) {
    const snap = learner.snapshot;
    if (snap && snap.steps.length && snap.steps.every((step) => step.done)) return "done";
    if (now - learner.last_seen > state.awayAfter) return "away";
    if (!snap) return "joined";
    if (snap.stuck) return "stuck";
    return "working";
  }

  const STATUS_WORDS = {
    done: "✓ done",
    away: "? away",
    joined: "· joined",
    stuck: "✗ stuck",
    working: "… working",
  };

  function stepState(step) {
    if (step.done) return "done";
    if (step.checks.fail > 0) return "fail";
    if (step.checks.pass + step.checks.waiting + step.checks.fail > 0) return "waiting";
    return "todo";
  }

  function stepLabel(snap, stepId) {
    const index = snap.steps.findIndex((step) => step.id === stepId);
    if (index < 0) return `step ${stepId}`;
    return `step ${index + 1} (${snap.steps[index].title})`;
  }

  // --- the token ----------------------------------------------------------------------

  function takeTokenFromUrl() {
    const hash = window.location.hash.replace(/^#/, "");
    const params = new URLSearchParams(hash);
    const token = params.get("token");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function showLogin(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("board").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("connection").textContent = "Not signed in";
    $("token").focus();
  }

  function start(token) {
    state.token = token;
    $("login").hidden = true;
    $("board").hidden = false;
    connect(1000);
  }

  // --- the live feed ------------------------------------------------------------------

  function setConnected(up, words) {
    state.connected = up;
    const node = $("connection");
    node.textContent = words;
    node.classList.toggle("down", !up);
  }

  async function connect(retryMs) {
    if (state.abort) state.abort.abort();
    const abort = new AbortController();
    state.abort = abort;
    let response;
    try {
      response = await fetch("/api/v1/events", {
        headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" },
        cache: "no-store",
        signal: abort.signal,
      });
    } catch (error) {
      return retry(retryMs, abort);
    }
    if (response.status === 401 || response.status === 403) {
      showLogin("That is not this workshop's instructor token.");
      return;
    }
    if (!response.ok || !response.body) return retry(retryMs, abort);
    setConnected(true, "Live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          handleBlock(block);
        }
      }
    } catch (error) {
      // cut off: reconnect below
    }
    if (abort.signal.aborted) return;
    retry(1000, abort);
  }

  function retry(retryMs, abort) {
    if (abort.signal.aborted) return;
    setConnected(false, "Reconnecting… (the workshop server is not answering)");
    setTimeout(() => connect(Math.min(retryMs * 2, 10000)), retryMs);
  }

  function handleBlock(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    let payload;
    try {
      payload = JSON.parse(data.join("\n"));
    } catch (error) {
      return;
    }
    switch (event) {
      case "room":
        state.workshop = payload.workshop;
        state.awayAfter = payload.away_after;
        state.clockOffset = payload.server_time - Date.now() / 1000;
        state.learners = new Map(payload.learners.map((learner) => [learner.id, learner]));
        state.notices = payload.notices;
        break;
      case "learner":
        state.learners.set(payload.id, payload);
        break;
      case "notice":
        state.notices.push(payload);
        state.notices = state.notices.slice(-50);
        break;
      case "presence":
        state.clockOffset = payload.server_time - Date.now() / 1000;
        for (const [id, seen] of Object.entries(payload.last_seen)) {
          const learner = state.learners.get(id);
          if (learner) learner.last_seen = seen;
        }
        break;
      default:
        return;
    }
    scheduleRender();
  }

  // --- drawing ------------------------------------------------------------------------

  function scheduleRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    const wait = Math.max(0, RENDER_EVERY_MS - (performance.now() - state.lastRender));
    setTimeout(() => {
      state.renderQueued = false;
      state.lastRender = performance.now();
      render();
    }, wait);
  }

  function render() {
    const now = serverNow();
    const learners = [...state.learners.values()].sort((a, b) =>
      a.name.localeCompare(b.name, undefined, { sensitivity: "base" }) || a.id.localeCompare(b.id));
    const statuses = new Map(learners.map((learner) => [learner.id, statusOf(learner, now)]));
    const count = (status) => learners.filter((learner) => statuses.get(learner.id) === status).length;
    const name = state.workshop ? state.workshop.name : "";
    $("title").textContent = name ? `Workshop ${name}` : "Workshop board";
    document.title = name ? `${name} · workshop board` : "Workshop board";
    $("summary").textContent =
      `${learners.length} learner${learners.length === 1 ? "" : "s"} · ${count("done")} done · ` +
      `${count("stuck")} stuck · ${count("away")} away`;

    const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusId : null;
    renderStuck(learners, statuses, now);
    renderLessons(learners, statuses, now);
    renderDone(learners, statuses);
    renderNotices(now);
    renderGotoChoices(learners);
    if (focusedId) {
      const again = document.querySelector(`[data-focus-id="${CSS.escape(focusedId)}"]`);
      if (again && again !== document.activeElement) again.focus();
    }
    const open = $("detail").dataset.learner;
    if ($("detail").open && open && state.learners.has(open)) fillDetail(state.learners.get(open), now);
  }

  function whoButton(learner, where) {
    return el("button", {
      type: "button",
      class: "who",
      text: learner.name,
      "data-learner": learner.id,
      "data-focus-id": `${where}:${learner.id}`,
      "aria-haspopup": "dialog",
      onclick: () => openDetail(learner.id),
    });
  }

  function renderStuck(learners, statuses, now) {
    const stuck = learners
      .filter((learner) => statuses.get(learner.id) === "stuck")
      .sort((a, b) => (a.stuck_since ?? now) - (b.stuck_since ?? now));
    const list = $("stuck");
    list.replaceChildren(
      ...stuck.map((learner) => {
        const snap = learner.snapshot;
        return el(
          "li",
          { "data-learner": learner.id },
          whoButton(learner, "stuck"),
          ` on ${stepLabel(snap, snap.stuck.step)}, for ${ago(now - learner.stuck_since)}: `,
          el("span", { class: "headline", text: snap.stuck.headline }),
        );
      }),
    );
    $("stuck-none").hidden = stuck.length > 0;
  }

  function lessonsOf(learners) {
    const lessons = new Map();
    for (const learner of learners) {
      const snap = learner.snapshot;
      const key = snap ? snap.lesson.id : "";
      if (!lessons.has(key)) lessons.set(key, { id: key, title: snap ? snap.lesson.title : "", steps: [], learners: [] });
      const lesson = lessons.get(key);
      lesson.learners.push(learner);
      if (snap && snap.steps.length > lesson.steps.length) lesson.steps = snap.steps.map((s) => ({ id: s.id, title: s.title }));
    }
    return [...lessons.values()].sort((a, b) => (a.id === "") - (b.id === "") || a.id.localeCompare(b.id));
  }

  function renderLessons(learners, statuses, now) {
    $("everyone-none").hidden = learners.length > 0;
    const tables = lessonsOf(learners).map((lesson) => {
      const head = el(
        "tr",
        {},
        el("th", { scope: "col", text: "Learner" }),
        ...lesson.steps.map((step, index) =>
          el("th", { scope: "col", title: step.title, "data-step": step.id }, el("span", { "aria-hidden": "true", text: String(index + 1) }), el("span", { class: "sr", text: `Step ${index + 1}: ${step.title}` }))),
      );
      const rows = lesson.learners.map((learner) => learnerRow(learner, lesson, statuses.get(learner.id), now));
      const caption = lesson.id ? `${lesson.title} (${lesson.id}): ${lesson.learners.length} learner${lesson.learners.length === 1 ? "" : "s"}` : "Joined, no lesson yet";
      return el("table", { "data-lesson": lesson.id }, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, ...rows));
    });
    $("lessons").replaceChildren(...tables);
  }

  function learnerRow(learner, lesson, status, now) {
    const snap = learner.snapshot;
    const statusText = status === "stuck" ? `${STATUS_WORDS.stuck} ${ago(now - learner.stuck_since)}` : STATUS_WORDS[status];
    const header = el("th", { scope: "row" }, whoButton(learner, "row"), " ", el("span", { class: `status ${status}`, text: statusText }));
    const cells = lesson.steps.map((column, index) => {
      const step = snap ? snap.steps.find((s) => s.id === column.id) : null;
      if (!step) return el("td", { "data-step": column.id, "data-state": "none" }, el("span", { class: "sr", text: "no data" }));
      const kind = stepState(step);
      const here = snap.on_screen === step.id;
      const total = step.checks.pass + step.checks.waiting + step.checks.fail;
      const shown = { done: "✓ done", fail: "✗ fail", waiting: `… ${step.checks.pass}/${total}`, todo: "○" }[kind];
      const words = { done: "done", fail: `failing: ${step.checks.fail} of ${total} checks fail`, waiting: `waiting: ${step.checks.pass} of ${total} checks pass`, todo: "not started" }[kind];
      return el(
        "td",
        { class: `cell-${kind}`, "data-step": step.id, "data-state": kind, "data-here": here ? "yes" : null },
        el("span", { class: `cell ${kind}${here ? " here" : ""}`, "aria-hidden": "true", text: here ? `▶ ${shown}` : shown }),
        el("span", { class: "sr", text: `Step ${index + 1}: ${words}${here ? ", on screen" : ""}` }),
      );
    });
    return el("tr", { "data-learner": learner.id, "data-status": status }, header, ...cells);
  }

  function renderDone(learners, statuses) {
    const done = learners.filter((learner) => statuses.get(learner.id) === "done");
    $("done").replaceChildren(
      ...done.map((learner) => {
        const times = Object.values(learner.done_at || {});
        const last = times.length ? Math.max(...times) : null;
        return el("li", { "data-learner": learner.id }, "✓ ", whoButton(learner, "done"), last ? `, finished at ${clock(last)}` : "");
      }),
    );
    $("done-none").hidden = done.length > 0;
  }

  function renderNotices(now) {
    $("notices").replaceChildren(
      ...state.notices.slice().reverse().map((notice) => {
        const said = notice.kind === "message" ? `“${notice.text}”` : `Everyone, step ${notice.step}${notice.lesson ? ` of ${notice.lesson}` : ""}`;
        return el("li", {}, `${ago(now - notice.at)} ago: `, said);
      }),
    );
  }

  function renderGotoChoices(learners) {
    const select = $("goto-step");
    const choices = [];
    for (const lesson of lessonsOf(learners)) {
      if (!lesson.id) continue;
      lesson.steps.forEach((step, index) => choices.push({ value: JSON.stringify([lesson.id, step.id]), label: `${index + 1}. ${step.title} (${lesson.id})` }));
    }
    const signature = JSON.stringify(choices);
    if (select.dataset.signature === signature) return;
    const chosen = select.value;
    select.replaceChildren(...choices.map((choice) => el("option", { value: choice.value, text: choice.label })));
    if (choices.some((choice) => choice.value === chosen)) select.value = chosen;
    select.dataset.signature = signature;
  }

  // --- one learner ----------------------------------------------------------------------

  function openDetail(id) {
    const learner = state.learners.get(id);
    if (!learner) return;
    const dialog = $("detail");
    dialog.dataset.learner = id;
    fillDetail(learner, serverNow());
    if (!dialog.open) dialog.showModal();
    $("detail-close").focus();
  }

  function fillDetail(learner, now) {
    const snap = learner.snapshot;
    const status = statusOf(learner, now);
    $("detail-title").textContent = learner.name;
    const facts = [
      ["Status", STATUS_WORDS[status]],
      ["Joined", `${clock(learner.joined_at)} (${ago(now - learner.joined_at)} ago)`],
      ["Last heard from", `${ago(now - learner.last_seen)} ago`],
    ];
    if (snap) {
      facts.push(
        ["Lesson", `${snap.lesson.title} (${snap.lesson.id})`],
        ["On screen", snap.on_screen ? stepLabel(snap, snap.on_screen) : "no step"],
        ["Steps done", `${snap.steps.filter((s) => s.done).length} of ${snap.steps.length}`],
        ["Cluster", snap.cluster === "sandbox" ? "the simulated cluster (sandbox)" : "a real cluster"],
        ["Questions answered", String(snap.questions_answered)],
        ["Background processes", snap.processes.length ? snap.processes.map((p) => `${p.name}: ${p.up ? "up" : "DOWN"}`).join(", ") : "none"],
        ["Tutor version", snap.tutor_version],
      );
      if (snap.stuck) facts.push(["Stuck", `${stepLabel(snap, snap.stuck.step)} for ${ago(now - learner.stuck_since)}: ${snap.stuck.headline}`]);
    }
    const list = el("dl", {}, ...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
    const parts = [list];
    if (snap) {
      const rows = snap.steps.map((step, index) => {
        const kind = stepState(step);
        const doneAt = (learner.done_at || {})[step.id];
        return el(
          "tr",
          { "data-step": step.id },
          el("td", { text: String(index + 1) }),
          el("th", { scope: "row", text: step.title + (snap.on_screen === step.id ? " ▶ on screen" : "") }),
          el("td", {}, el("span", { class: `cell ${kind}`, text: { done: "✓ done", fail: "✗ failing", waiting: "… waiting", todo: "○ not started" }[kind] })),
          el("td", { text: `${step.checks.pass} pass, ${step.checks.waiting} waiting, ${step.checks.fail} fail` }),
          el("td", { text: String(step.hints_used) }),
          el("td", { text: doneAt ? clock(doneAt) : "" }),
        );
      });
      parts.push(
        el(
          "table",
          {},
          el("caption", { text: "Steps" }),
          el("thead", {}, el("tr", {}, ...["#", "Step", "State", "Checks", "Hints used", "Done at"].map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, ...rows),
        ),
      );
    }
    $("detail-body").replaceChildren(...parts);
  }

  // --- talking to the room --------------------------------------------------------------

  async function post(path, body, done) {
    const result = $("room-result");
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      result.textContent = "Not sent: the workshop server is not answering.";
      return;
    }
    if (response.status === 401 || response.status === 403) {
      showLogin("That is not this workshop's instructor token.");
      return;
    }
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).error.message;
      } catch (error) {
        // keep the status
      }
      result.textContent = `Not sent: ${message}`;
      return;
    }
    result.textContent = done;
  }

  function wire() {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      $("token").value = "";
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      start(token);
    });
    $("message-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("message").value.trim();
      if (!text) return;
      post("/api/v1/messages", { text }, "Sent to everyone.").then(() => {
        if (!$("room-result").textContent.startsWith("Not sent")) $("message").value = "";
      });
    });
    $("goto-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("goto-step").value;
      if (!value) return;
      const [lesson, step] = JSON.parse(value);
      post("/api/v1/goto", { lesson, step }, `Offered ${$("goto-step").selectedOptions[0].textContent} to everyone.`);
    });
    $("detail-close").addEventListener("click", () => $("detail").close());
    $("detail").addEventListener("close", () => {
      const id = $("detail").dataset.learner;
      delete $("detail").dataset.learner;
      const back = document.querySelector(`[data-focus-id="row:${CSS.escape(id || "")}"]`);
      if (back) back.focus();
    });
    const large = $("large");
    const setLarge = (on) => {
      document.documentElement.classList.toggle("large", on);
      large.setAttribute("aria-pressed", on ? "true" : "false");
      localStorage.setItem(LARGE_KEY, on ? "1" : "0");
    };
    large.addEventListener("click", () => setLarge(large.getAttribute("aria-pressed") !== "true"));
    setLarge(localStorage.getItem(LARGE_KEY) === "1");
    // Up and down move between learners in the table, as in a list.
    $("lessons").addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const buttons = [...$("lessons").querySelectorAll("button.who")];
      const at = buttons.indexOf(document.activeElement);
      if (at < 0) return;
      const next = buttons[at + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) {
        event.preventDefault();
        next.focus();
      }
    });
    // Relative times ("stuck 6 min", "away") move on even when nothing is sent.
    setInterval(scheduleRender, 5000);
  }

  wire();
  const token = takeTokenFromUrl();
  if (token) start(token);
  else showLogin("");
})();
