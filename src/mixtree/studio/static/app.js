// The studio page: one WebSocket to the session, the transport bar, errors, undo and save.
// The timeline (timeline.js) and the mixer (mixer.js) draw from the same state.
import { Timeline } from "./timeline.js";
import { Mixer } from "./mixer.js";

const $ = (id) => document.getElementById(id);

class Studio {
  constructor() {
    this.state = null;
    this.transport = { position: 0, playing: false, loop: [false, 0, 0], xruns: 0, at: performance.now() };
    this.meters = { peak: {}, rms: {} };
    this.pending = new Map();
    this.nextId = 1;
    this.timeline = new Timeline(this, $("timeline"));
    this.mixer = new Mixer(this, $("mixer"));
    this.bindBar();
    this.connect();
    this.scheduled = false;
    this.ticks = 0;
    setInterval(() => this.tick(), 50);
  }

  // Draw the timeline at the next frame (once however often it is asked).
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.timeline.draw();
    });
  }

  // Place the playhead where the transport is now (it glides on by itself while playing).
  syncCursor() {
    this.timeline.placeCursor(this.position(), this.transport.playing);
  }

  connect() {
    const url = location.href.replace(/^http/, "ws").replace(/[?#].*$/, "").replace(/\/?$/, "/") + "ws";
    this.ws = new WebSocket(url);
    this.ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    this.ws.onclose = () => {
      this.showError("lost the connection to the studio: retrying…");
      setTimeout(() => this.connect(), 1000);
    };
  }

  // Send a request; resolves with the reply, shows its error on the page.
  request(op, args = {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      if (this.ws.readyState !== WebSocket.OPEN) {
        this.pending.delete(id);
        this.showError(`not connected: ${op} was not sent`);
        resolve({ ok: false });
        return;
      }
      this.ws.send(JSON.stringify({ id, op, ...args }));
    });
  }

  receive(m) {
    switch (m.type) {
      case "project":
        this.state = m.project;
        this.timeline.setState(this.state);
        this.mixer.setState(this.state);
        this.updateBar();
        break;
      case "transport": {
        const before = this.transport;
        const predicted = this.position();
        this.transport = { ...m, at: performance.now() };
        if (String(m.loop) !== String(before.loop)) this.timeline.dirty = true;
        if (m.playing !== before.playing || Math.abs(m.position - predicted) > 0.05) this.syncCursor();
        break;
      }
      case "meters":
        this.meters = m;
        this.mixer.drawMeters(m);
        this.timeline.drawMeters(m);
        break;
      case "peaks":
        this.timeline.peaksReady(m.source);
        break;
      case "error":
        this.showError(m.message);
        break;
      case "reply": {
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!m.ok) this.showError(m.error);
        if (done) done(m);
        break;
      }
    }
  }

  // The playhead now, between two transport messages: it moves on at real time.
  position() {
    const t = this.transport;
    let p = t.position;
    if (t.playing) {
      p += (performance.now() - t.at) / 1000;
      const [on, start, end] = t.loop;
      if (on && end > start && p >= end) p = start + ((p - start) % (end - start));
    }
    return p;
  }

  showError(message) {
    const box = $("errors");
    const div = document.createElement("div");
    div.className = "error";
    const text = document.createElement("span");
    text.textContent = message;
    const close = document.createElement("button");
    close.textContent = "×";
    close.title = "dismiss";
    close.onclick = () => div.remove();
    div.append(text, close);
    box.append(div);
    while (box.children.length > 5) box.firstChild.remove();
    setTimeout(() => div.remove(), 20000);
  }

  bindBar() {
    $("play").onclick = () => this.request(this.transport.playing ? "pause" : "play");
    $("stop").onclick = () => this.request("stop");
    $("loop").onclick = () => {
      const [on] = this.transport.loop;
      const [s, e] = this.timeline.loopRange();
      this.request("loop", { on: !on, start: s, end: e });
    };
    $("zoom-in").onclick = () => this.timeline.zoom(1.5);
    $("zoom-out").onclick = () => this.timeline.zoom(1 / 1.5);
    $("undo").onclick = () => this.request("undo");
    $("redo").onclick = () => this.request("redo");
    $("save").onclick = async () => {
      const path = $("save-path").value.trim();
      const r = await this.request("save", path ? { path } : {});
      if (r.ok) $("status").textContent = `saved ${r.path}`;
    };
    document.addEventListener("keydown", (e) => {
      const typing = e.target instanceof HTMLInputElement && e.target.type !== "range";
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
        e.preventDefault();
        this.request(e.shiftKey ? "redo" : "undo");
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") {
        e.preventDefault();
        this.request("redo");
      } else if (e.key === " " && !typing && !(e.target instanceof HTMLInputElement)) {
        e.preventDefault();
        this.request(this.transport.playing ? "pause" : "play");
      }
    });
  }

  updateBar() {
    const s = this.state;
    $("undo").disabled = !s.can_undo;
    $("redo").disabled = !s.can_redo;
    $("undo").title = s.history.length ? `Undo ${s.history[s.history.length - 1]} (Ctrl+Z)` : "Nothing to undo";
    const path = $("save-path");
    if (document.activeElement !== path && s.path && !path.value) path.value = s.path;
    this.renderStatus();
  }

  renderStatus() {
    const s = this.state;
    if (!s) return;
    const parts = [];
    if (s.notice) parts.push(s.notice);
    parts.push(s.path ? (s.saved ? "saved" : "unsaved changes") : "not saved yet");
    if (this.transport.xruns) parts.push(`xruns ${this.transport.xruns}`);
    const text = parts.join(" · ");
    if ($("status").dataset.text !== text) {
      $("status").dataset.text = text;
      $("status").textContent = text;
    }
  }

  // 20 times a second: the clock, the buttons' states, the status line; every 250 ms the
  // playhead is placed again (a seek or a loop jump is caught at once by `receive`)
  tick() {
    const p = this.position();
    setText($("clock"), clock(p));
    setText($("bbt"), this.timeline.barBeat(p));
    if (this.shownPlaying !== this.transport.playing) {
      this.shownPlaying = this.transport.playing;
      $("play").classList.toggle("on", this.transport.playing);
      $("play").innerHTML = this.transport.playing ? "&#10074;&#10074;" : "&#9654;";
    }
    $("loop").classList.toggle("on", !!this.transport.loop[0]);
    this.renderStatus();
    if (++this.ticks % 5 === 0 && this.transport.playing) this.syncCursor();
  }
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

export function clock(seconds) {
  const s = Math.max(0, seconds);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${(s - m * 60).toFixed(3).padStart(6, "0")}`;
}

window.studio = new Studio();
