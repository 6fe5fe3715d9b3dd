// The timeline: ruler (bars/beats and seconds), a row per track in tree order
// (metatracks fold), clips with waveforms, MIDI clips as piano rolls, automation lanes.
// Drag a clip to move it (also to another track), its edges to trim, its top corners to
// fade; drag lane points, double-click a lane to add a point or a point to remove it.
// The canvas is painted only when something on it changes; the playhead is an element
// of its own that the browser slides along, and every row's meter a small canvas of its
// own beside the headers, painted at the meters' rate.
import { frac } from "./mixer.js";

const HEAD = 170;
const RULER = 36;
const TRACK_H = 62;
const META_H = 30;
const LANE_H = 46;
const EDGE = 7;
const CURSOR_FPS = 30; // the playhead moves in steps this often: smooth, at half the frames
const METER_W = 8; // the rows' meters, at the right edge of the headers

export class Timeline {
  constructor(app, canvas) {
    this.app = app;
    this.canvas = canvas;
    this.bg = document.createElement("canvas");
    this.state = null;
    this.pps = 40; // pixels per second
    this.scrollX = 0; // seconds at the left edge
    this.scrollY = 0;
    this.rows = [];
    this.peaks = new Map(); // source id -> Map(level -> {fpb, data} | "loading")
    this.notes = new Map(); // MIDI clip id -> {key, n, start, dur, pitch, lo, hi, longest} | {key, loading}
    this.drag = null;
    this.loop = null; // [start, end] chosen on the ruler
    this._dirty = true;
    // the playhead: an element the browser's compositor slides along (Web Animations),
    // so a playing page does no work per frame; it is placed again a few times a second
    this.cursorArea = document.createElement("div");
    this.cursorArea.className = "playhead-area";
    this.cursorArea.style.left = `${HEAD}px`;
    this.cursorArea.style.top = "0px";
    this.cursor = document.createElement("div");
    this.cursor.className = "playhead";
    this.cursorArea.append(this.cursor);
    canvas.parentElement.append(this.cursorArea);
    this.meterCanvas = document.createElement("canvas");
    this.meterCanvas.className = "row-meters";
    Object.assign(this.meterCanvas.style, { left: `${HEAD - METER_W - 3}px`, top: `${RULER}px`, width: `${METER_W}px` });
    canvas.parentElement.append(this.meterCanvas);
    this.meters = { peak: {}, rms: {} };
    this.anim = null;
    new ResizeObserver(() => (this.dirty = true)).observe(canvas);
    canvas.addEventListener("mousedown", (e) => this.down(e));
    window.addEventListener("mousemove", (e) => this.move(e));
    window.addEventListener("mouseup", (e) => this.up(e));
    canvas.addEventListener("dblclick", (e) => this.dblclick(e));
    canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
  }

  get dirty() {
    return this._dirty;
  }
  set dirty(value) {
    this._dirty = value;
    if (value) this.app.schedule();
  }

  setState(state) {
    if (!this.state && state.duration > 0 && this.canvas.clientWidth > HEAD) {
      this.pps = Math.min(400, Math.max(0.05, (this.canvas.clientWidth - HEAD) / (state.duration * 1.1)));
    }
    this.state = state;
    // a track under an automated speed places its times through its timeline's knots
    const warps = new Map(
      Object.entries(state.warps || {}).map(([id, k]) => [Number(id), { own: k.map((r) => r[0]), at: k.map((r) => r[1]) }]),
    );
    for (const t of state.tracks) t.knots = t.parent === null ? null : warps.get(t.parent) || null;
    this.tracks = new Map(state.tracks.map((t) => [t.id, t]));
    this.layout();
    this.dirty = true;
  }

  layout() {
    const rows = [];
    const hidden = new Set();
    let y = RULER;
    for (const t of this.state.tracks) {
      if (t.parent !== null && hidden.has(t.parent)) {
        hidden.add(t.id);
        continue;
      }
      if (t.kind === "meta" && t.collapsed) hidden.add(t.id);
      const h = t.kind === "meta" ? META_H : TRACK_H;
      rows.push({ kind: "track", track: t, y, h });
      y += h;
      for (const lane of t.lanes) {
        rows.push({ kind: "lane", track: t, lane, y, h: LANE_H });
        y += LANE_H;
      }
    }
    this.rows = rows;
    this.height = y;
  }

  // -- coordinates ------------------------------------------------------------------------
  x(t) {
    return HEAD + (t - this.scrollX) * this.pps;
  }
  time(x) {
    return this.scrollX + (x - HEAD) / this.pps;
  }
  // project time of a time on the track's own timeline, and back
  proj(track, local) {
    return track.knots ? follow(track.knots.own, track.knots.at, local, true) : track.a * local + track.b;
  }
  local(track, projTime) {
    return track.knots ? follow(track.knots.at, track.knots.own, projTime, false) : (projTime - track.b) / track.a;
  }
  // the track's own time at canvas x
  localAt(track, x) {
    return this.local(track, this.time(x));
  }
  // canvas x of the ends of clip c's fades
  fadeXs(t, c) {
    return [this.x(this.proj(t, c.start + c.fade_in)), this.x(this.proj(t, c.start + c.duration - c.fade_out))];
  }

  clipRect(id) {
    for (const r of this.rows) {
      if (r.kind !== "track") continue;
      for (const c of [...r.track.clips, ...r.track.midi]) {
        if (c.id === id) {
          const x0 = this.x(this.proj(r.track, c.start));
          const x1 = this.x(this.proj(r.track, c.start + c.duration));
          return { x: x0, y: r.y - this.scrollY + 2, w: x1 - x0, h: r.h - 4 };
        }
      }
    }
    return null;
  }

  rowAt(y) {
    const yy = y + this.scrollY;
    return this.rows.find((r) => yy >= r.y && yy < r.y + r.h) || null;
  }

  loopRange() {
    if (this.loop) return this.loop;
    return [0, Math.max(this.state ? this.state.duration : 0, 0.001)];
  }

  barBeat(t) {
    const bars = this.state ? this.state.bars : [];
    if (bars.length < 2) return "1.1";
    let i = 0;
    let lo = 0;
    let hi = bars.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bars[mid] <= t) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const len = (bars[i + 1] ?? bars[i] + (bars[1] - bars[0])) - bars[i];
    const beat = Math.floor(((t - bars[i]) / len) * this.state.beats_per_bar) + 1;
    return `${i + 1}.${beat}`;
  }

  zoom(factor, atX = null) {
    const x = atX ?? HEAD + (this.canvas.clientWidth - HEAD) / 2;
    const t = this.time(x);
    this.pps = Math.min(4000, Math.max(0.05, this.pps * factor));
    this.scrollX = Math.max(0, t - (x - HEAD) / this.pps);
    this.dirty = true;
  }

  // -- peaks ------------------------------------------------------------------------------
  peaksReady(source) {
    this.peaks.delete(String(source));
    if (this.state && this.state.sources[source]) this.state.sources[source].peaks = true;
    this.dirty = true;
  }

  overview(source, fpp) {
    // the coarsest level whose buckets are no wider than a pixel
    let level = 0;
    while (level < 5 && 256 * 4 ** (level + 1) <= fpp) level++;
    const key = String(source);
    if (!this.peaks.has(key)) this.peaks.set(key, new Map());
    const levels = this.peaks.get(key);
    const got = levels.get(level);
    if (got === undefined && this.state.sources[key] && this.state.sources[key].peaks) {
      levels.set(level, "loading");
      fetch(`api/peaks/${source}?level=${level}`)
        .then(async (r) => {
          if (!r.ok) throw new Error((await r.json()).error);
          const fpb = Number(r.headers.get("x-frames-per-bucket"));
          levels.set(level, { fpb, data: new Int8Array(await r.arrayBuffer()) });
          this.dirty = true;
        })
        .catch((err) => {
          levels.delete(level);
          this.app.showError(`waveform of source #${source}: ${err.message}`);
        });
    }
    return got && got !== "loading" ? got : null;
  }

  // -- drawing ----------------------------------------------------------------------------
  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      this.bg.width = c.width;
      this.bg.height = c.height;
      this._dirty = true;
    }
    if (!this.state) return;
    const ghost = !!(this.drag && this.drag.ghost);
    if (!(this._dirty || ghost || this.ghosted)) return;
    if (this._dirty) {
      this._dirty = false;
      const g = this.bg.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      this.paint(g, w, h);
      this.paintMeters();
      this.app.syncCursor();
    }
    const g = c.getContext("2d");
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(this.bg, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (ghost) this.paintGhost(g);
    this.ghosted = ghost;
  }

  // Every row's peak (and, lighter, RMS) level beside its header: at each meters message
  drawMeters(meters) {
    this.meters = meters;
    this.paintMeters();
  }

  paintMeters() {
    const c = this.meterCanvas;
    const dpr = window.devicePixelRatio || 1;
    const h = Math.max(0, this.canvas.clientHeight - RULER);
    if (c.height !== Math.round(h * dpr)) {
      c.height = Math.round(h * dpr);
      c.width = Math.round(METER_W * dpr);
      c.style.height = `${h}px`;
    }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, METER_W, h);
    for (const r of this.rows) {
      if (r.kind !== "track") continue;
      const y = r.y - this.scrollY - RULER;
      if (y + r.h < 0 || y > h) continue;
      const id = String(r.track.id);
      const peak = Math.max(...(this.meters.peak[id] || [0, 0]));
      const rms = Math.max(...(this.meters.rms[id] || [0, 0]));
      const span = r.h - 8;
      g.fillStyle = "#111";
      g.fillRect(0, y + 4, METER_W, span);
      const hp = frac(peak) * span;
      const hr = frac(rms) * span;
      g.fillStyle = peak >= 1 ? "#e5534b" : "#4caf50";
      g.fillRect(0, y + 4 + span - hp, METER_W, hp);
      g.fillStyle = "#a5e0a8";
      g.fillRect(0, y + 4 + span - hr, METER_W, hr);
    }
  }

  // Put the playhead at ``position`` and, while playing, let it glide on for a second.
  placeCursor(position, playing) {
    const [on, , end] = this.app.transport.loop;
    let ahead = playing ? 1.0 : 0.0;
    if (playing && on && end > position) ahead = Math.min(ahead, end - position);
    const x0 = this.x(position) - HEAD;
    const x1 = this.x(position + ahead) - HEAD;
    this.cursorX = x0 + HEAD;
    if (this.anim) this.anim.cancel();
    this.anim = null;
    this.cursor.style.transform = `translateX(${x0.toFixed(1)}px)`;
    if (ahead > 0 && x1 !== x0) {
      this.anim = this.cursor.animate(
        [{ transform: `translateX(${x0.toFixed(1)}px)` }, { transform: `translateX(${x1.toFixed(1)}px)` }],
        { duration: ahead * 1000, easing: `steps(${Math.max(1, Math.round(ahead * CURSOR_FPS))})`, fill: "forwards" },
      );
    }
  }

  paint(g, w, h) {
    g.fillStyle = "#1b1d22";
    g.fillRect(0, 0, w, h);
    g.save();
    g.beginPath();
    g.rect(0, RULER, w, h - RULER);
    g.clip();
    for (const r of this.rows) {
      const y = r.y - this.scrollY;
      if (y + r.h < RULER || y > h) continue;
      if (r.kind === "track") this.paintTrack(g, r, y, w);
      else this.paintLane(g, r, y, w);
    }
    g.restore();
    this.paintRuler(g, w);
  }

  paintRuler(g, w) {
    g.fillStyle = "#24272e";
    g.fillRect(0, 0, w, RULER);
    g.fillStyle = "#8a909c";
    g.font = "11px system-ui";
    const t0 = this.time(HEAD);
    const t1 = this.time(w);
    // bars and beats, top half
    const bars = this.state.bars;
    const every = Math.max(1, Math.ceil(60 / Math.max(1e-9, this.pps * ((bars[1] ?? 2) - (bars[0] ?? 0)))));
    for (let i = 0; i < bars.length; i++) {
      if (bars[i] > t1) break;
      const next = bars[i + 1] ?? bars[i] + (bars[1] - bars[0]);
      if (next < t0) continue;
      const x = this.x(bars[i]);
      if (i % every === 0) {
        g.fillRect(x, 0, 1, 16);
        g.fillText(String(i + 1), x + 3, 11);
      }
      const beatW = ((next - bars[i]) * this.pps) / this.state.beats_per_bar;
      if (beatW > 12) for (let b = 1; b < this.state.beats_per_bar; b++) g.fillRect(x + b * beatW, 10, 1, 6);
    }
    // seconds, bottom half
    const steps = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    const step = steps.find((s) => s * this.pps >= 60) ?? 3600;
    for (let t = Math.floor(Math.max(0, t0) / step) * step; t <= t1; t += step) {
      const x = this.x(t);
      g.fillRect(x, 22, 1, 14);
      g.fillText(secondsLabel(t, step), x + 3, 33);
    }
    const [on, ls, le] = this.app.transport.loop;
    const [s, e] = on ? [ls, le] : this.loop || [0, 0];
    if (e > s) {
      g.fillStyle = on ? "rgba(79,163,255,.45)" : "rgba(79,163,255,.2)";
      g.fillRect(this.x(s), 17, (e - s) * this.pps, 4);
    }
    g.fillStyle = "#24272e";
    g.fillRect(0, 0, HEAD, RULER);
    g.fillStyle = "#8a909c";
    g.fillText("bars · seconds", 8, 22);
    g.fillStyle = "#353943";
    g.fillRect(0, RULER - 1, w, 1);
  }

  paintTrack(g, r, y, w) {
    const t = r.track;
    g.fillStyle = t.kind === "meta" ? "#262a33" : "#1f2228";
    g.fillRect(HEAD, y, w - HEAD, r.h);
    g.fillStyle = "#2f333c";
    g.fillRect(0, y + r.h - 1, w, 1);
    for (const c of t.clips) this.paintClip(g, t, c, y, r.h);
    for (const c of t.midi) this.paintMidi(g, t, c, y, r.h);
    // header, over anything that starts before the left edge
    g.fillStyle = t.kind === "meta" ? "#2e3440" : "#24272e";
    g.fillRect(0, y, HEAD, r.h - 1);
    const indent = 8 + t.depth * 12;
    g.fillStyle = "#d8dbe2";
    g.font = "12px system-ui";
    if (t.kind === "meta") {
      g.fillText(t.collapsed ? "▸" : "▾", indent, y + 19);
    }
    const nameX = indent + (t.kind === "meta" ? 14 : 0);
    g.fillText(fit(g, t.name, HEAD - nameX - 20), nameX, y + 19); // clear of the row's meter
    g.fillStyle = "#8a909c";
    g.font = "10px system-ui";
    if (t.kind !== "meta") g.fillText(t.kind + (t.mute ? " · muted" : "") + (t.solo ? " · solo" : ""), indent, y + 34);
  }

  // where clip ``c`` of track ``t`` lies on a row at ``y`` of height ``h``, the canvas
  // clipped to it (saved: the caller restores); null if it is out of view
  clipFrame(g, t, c, y, h) {
    const x0 = this.x(this.proj(t, c.start));
    const x1 = this.x(this.proj(t, c.start + c.duration));
    const W = this.canvas.clientWidth;
    if (x1 < HEAD || x0 > W) return null;
    const top = y + 2;
    const hh = h - 4;
    g.save();
    g.beginPath();
    g.rect(Math.max(HEAD, x0), top, Math.min(W, x1) - Math.max(HEAD, x0), hh);
    g.clip();
    return { x0, x1, top, hh };
  }

  paintClip(g, t, c, y, h, ghost = false) {
    const frame = this.clipFrame(g, t, c, y, h);
    if (!frame) return;
    const { x0, x1, top, hh } = frame;
    const src = this.state.sources[c.source];
    const offline = src && src.offline;
    g.fillStyle = ghost ? "rgba(79,163,255,.35)" : offline ? "#5a2d2d" : c.muted ? "#3b3f48" : "#2d5683";
    g.fillRect(x0, top, x1 - x0, hh);
    g.fillStyle = "#d8dbe2";
    g.font = "10px system-ui";
    g.fillText(offline ? `${c.name} (offline: silent)` : c.name, x0 + 4, top + 11);
    // waveform
    if (src && !ghost) {
      // clip seconds per pixel on average (under a warp it varies along the clip)
      const pxSeconds = x1 > x0 ? c.duration / (x1 - x0) : c.duration;
      const fpp = pxSeconds * c.speed * src.rate;
      const ov = this.overview(c.source, fpp);
      if (ov) {
        const mid = top + 14 + (hh - 14) / 2;
        const amp = (hh - 16) / 2 / 127;
        g.fillStyle = "#9cc7f2";
        const from = Math.max(Math.floor(x0), HEAD);
        const to = Math.min(Math.ceil(x1), this.canvas.clientWidth);
        const n = ov.data.length / 2;
        // the clip's own seconds under each pixel, through the track's time map
        let next = this.localAt(t, from) - c.start;
        for (let px = from; px < to; px++) {
          let a = next;
          next = this.localAt(t, px + 1) - c.start;
          let b = next;
          if (c.reversed) [a, b] = [c.duration - b, c.duration - a];
          const f0 = (c.offset + a * c.speed) * src.rate;
          const f1 = (c.offset + b * c.speed) * src.rate;
          let i0 = Math.floor(f0 / ov.fpb);
          let i1 = Math.max(i0 + 1, Math.ceil(f1 / ov.fpb));
          i0 = Math.max(0, i0);
          i1 = Math.min(n, i1);
          let lo = 127;
          let hi = -127;
          for (let i = i0; i < i1; i++) {
            if (ov.data[2 * i] < lo) lo = ov.data[2 * i];
            if (ov.data[2 * i + 1] > hi) hi = ov.data[2 * i + 1];
          }
          if (hi >= lo) g.fillRect(px, mid - hi * amp, 1, Math.max(1, (hi - lo) * amp));
        }
      }
    }
    // fades
    g.strokeStyle = "#ffd479";
    g.fillStyle = "rgba(0,0,0,.25)";
    const [fi, fo] = this.fadeXs(t, c);
    g.beginPath();
    g.moveTo(x0, top + hh);
    g.lineTo(fi, top);
    g.lineTo(fo, top);
    g.lineTo(x1, top + hh);
    g.stroke();
    g.fillStyle = "#ffd479";
    g.fillRect(fi - 3, top, 6, 6);
    g.fillRect(fo - 3, top, 6, 6);
    g.restore();
    g.strokeStyle = ghost ? "#4fa3ff" : "#5d89b8";
    g.strokeRect(x0 + 0.5, top + 0.5, x1 - x0 - 1, hh - 1);
  }

  paintMidi(g, t, c, y, h, ghost = false) {
    const frame = this.clipFrame(g, t, c, y, h);
    if (!frame) return;
    const { x0, x1, top, hh } = frame;
    g.fillStyle = ghost ? "rgba(123,94,167,.4)" : "#4a3a66";
    g.fillRect(x0, top, x1 - x0, hh);
    const notes = ghost || !c.notes ? null : this.notesOf(c);
    if (notes && notes.n) {
      const span = Math.max(12, notes.hi - notes.lo + 1);
      const rowH = (hh - 6) / span;
      g.fillStyle = "#d5c2f5";
      // only the notes that sound in view: those starting from (view start − the longest
      // note) to the view's end, found by bisection (they are sorted by start)
      const zero = c.start - c.offset; // the clip's time 0 on the track's timeline
      const from = this.localAt(t, Math.max(HEAD, x0)) - zero;
      const to = this.localAt(t, Math.min(this.canvas.clientWidth, x1)) - zero;
      const last = new Float64Array(128).fill(-Infinity); // per pitch: the last pixel drawn
      for (let i = bisect(notes.start, from - notes.longest); i < notes.n; i++) {
        const s = notes.start[i];
        if (s > to) break;
        const p = notes.pitch[i];
        const xs = this.x(this.proj(t, zero + s));
        const xe = this.x(this.proj(t, zero + s + notes.dur[i]));
        if (xe < last[p] + 1) continue; // this pixel of this row is lit already
        last[p] = xe;
        g.fillRect(xs, top + 3 + (notes.hi - p) * rowH, Math.max(1, xe - xs - 1), Math.max(1, rowH - 0.5));
      }
    }
    g.restore();
    g.strokeStyle = "#9b84c4";
    g.strokeRect(x0 + 0.5, top + 0.5, x1 - x0 - 1, hh - 1);
  }

  // a MIDI clip's notes as columns sorted by start: from the state for a small clip,
  // fetched (once per change of its notes) for a large one; null until they are here
  notesOf(c) {
    let got = this.notes.get(c.id);
    if (got && got.key === c.notes_key) return got.loading ? null : got;
    if (c.inline) {
      const n = c.inline.length;
      got = { key: c.notes_key, n, start: new Float64Array(n), dur: new Float32Array(n), pitch: new Uint8Array(n) };
      c.inline.forEach(([p, s, d], i) => {
        got.start[i] = s;
        got.dur[i] = d;
        got.pitch[i] = p;
      });
      this.notes.set(c.id, summarize(got));
      return got;
    }
    this.notes.set(c.id, { key: c.notes_key, loading: true });
    fetch(`api/notes/${c.id}`)
      .then(async (r) => {
        if (!r.ok) throw new Error((await r.json()).error);
        const n = Number(r.headers.get("x-notes"));
        const buf = await r.arrayBuffer();
        const notes = {
          key: r.headers.get("x-key"),
          n,
          start: new Float64Array(buf, 0, n),
          dur: new Float32Array(buf, 8 * n, n),
          pitch: new Uint8Array(buf, 12 * n, n),
        };
        if (this.notes.get(c.id)?.key === c.notes_key) this.notes.set(c.id, summarize(notes));
        this.dirty = true;
      })
      .catch((err) => {
        this.notes.delete(c.id);
        this.app.showError(`notes of clip #${c.id}: ${err.message}`);
      });
    return null;
  }

  paintLane(g, r, y, w) {
    const { track: t, lane } = r;
    g.fillStyle = "#1a1c21";
    g.fillRect(HEAD, y, w - HEAD, r.h);
    g.fillStyle = "#22252c";
    g.fillRect(0, y, HEAD, r.h - 1);
    g.fillStyle = "#8a909c";
    g.font = "11px system-ui";
    g.fillText(`${lane.parameter} (${lane.mode})`, 14 + t.depth * 12, y + 16);
    g.fillStyle = "#2f333c";
    g.fillRect(0, y + r.h - 1, w, 1);
    const pts = this.lanePoints(r);
    g.strokeStyle = "#f0a35e";
    g.lineWidth = 1.5;
    g.beginPath();
    if (pts.length) {
      g.moveTo(HEAD, pts[0][1]);
      for (const [px, py] of pts) g.lineTo(px, py);
      g.lineTo(w, pts[pts.length - 1][1]);
    }
    g.stroke();
    g.lineWidth = 1;
    g.fillStyle = "#f0a35e";
    for (const [px, py] of pts) g.fillRect(px - 3, py - 3, 6, 6);
  }

  laneY(r, value) {
    const { min, max } = this.laneRange(r.lane);
    const v = Math.min(max, Math.max(min, value));
    const y = r.y - this.scrollY;
    return y + r.h - 5 - ((v - min) / (max - min || 1)) * (r.h - 10);
  }

  laneValue(r, py) {
    const { min, max } = this.laneRange(r.lane);
    const y = r.y - this.scrollY;
    const f = (y + r.h - 5 - py) / (r.h - 10);
    return Math.min(max, Math.max(min, min + f * (max - min)));
  }

  laneRange(lane) {
    const min = lane.min === null || lane.min < -60 ? (lane.parameter === "volume_db" ? -60 : lane.min ?? 0) : lane.min;
    return { min, max: lane.max === null ? 1 : lane.max };
  }

  lanePoints(r) {
    const points = this.drag && this.drag.kind === "point" && this.drag.row === r ? this.drag.points : r.lane.points;
    return points.map(([t, v]) => [this.x(this.proj(r.track, t)), this.laneY(r, v)]);
  }

  paintGhost(g) {
    const d = this.drag;
    const target = this.rows.find((r) => r.kind === "track" && r.track.id === d.ghost.track);
    if (!target) return;
    const t = target.track;
    const y = target.y - this.scrollY;
    if (d.isMidi) this.paintMidi(g, t, d.ghost.clip, y, target.h, true);
    else this.paintClip(g, t, d.ghost.clip, y, target.h, true);
  }

  // -- interaction ------------------------------------------------------------------------
  hit(e) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  down(e) {
    if (!this.state || e.button !== 0) return;
    const { x, y } = this.hit(e);
    if (y < RULER) {
      if (x < HEAD) return;
      const t = Math.max(0, this.time(x));
      if (e.shiftKey) this.drag = { kind: "loop", from: t };
      else this.app.request("seek", { seconds: t });
      return;
    }
    const r = this.rowAt(y);
    if (!r) return;
    if (x < HEAD) {
      if (r.kind === "track" && r.track.kind === "meta")
        this.app.request("set", { track: r.track.id, name: "collapsed", value: !r.track.collapsed });
      return;
    }
    if (r.kind === "lane") return this.downLane(r, x, y);
    const t = r.track;
    const all = [...t.clips.map((c) => [c, false]), ...t.midi.map((c) => [c, true])];
    for (let k = all.length - 1; k >= 0; k--) {
      const [c, isMidi] = all[k];
      const x0 = this.x(this.proj(t, c.start));
      const x1 = this.x(this.proj(t, c.start + c.duration));
      if (x < x0 || x > x1) continue;
      const top = r.y - this.scrollY + 2;
      let mode = "move";
      const [fi, fo] = isMidi ? [NaN, NaN] : this.fadeXs(t, c);
      if (!isMidi && y < top + 9 && Math.abs(x - fi) <= 6) mode = "fade_in";
      else if (!isMidi && y < top + 9 && Math.abs(x - fo) <= 6) mode = "fade_out";
      else if (x - x0 <= EDGE && x1 - x0 > 3 * EDGE) mode = "left";
      else if (x1 - x <= EDGE && x1 - x0 > 3 * EDGE) mode = "right";
      this.drag = { kind: "clip", mode, clip: c, track: t, isMidi, x0: x, y0: y, ghost: null };
      e.preventDefault();
      return;
    }
  }

  downLane(r, x, y) {
    const pts = this.lanePoints(r);
    const k = pts.findIndex(([px, py]) => Math.abs(px - x) <= 5 && Math.abs(py - y) <= 5);
    if (k < 0) return;
    this.drag = { kind: "point", row: r, index: k, points: r.lane.points.map((p) => [...p]), moved: false };
  }

  move(e) {
    const d = this.drag;
    if (!d) return;
    const { x, y } = this.hit(e);
    if (d.kind === "loop") {
      const t = Math.max(0, this.time(x));
      this.loop = [Math.min(d.from, t), Math.max(d.from, t)];
      this.dirty = true;
      return;
    }
    if (d.kind === "point") {
      const r = d.row;
      const t = Math.max(0, this.local(r.track, this.time(x)));
      d.points[d.index] = [t, this.laneValue(r, y)];
      d.moved = true;
      this.dirty = true;
      return;
    }
    const c = d.clip;
    const t = d.track;
    const dt = this.localAt(t, x) - this.localAt(t, d.x0); // in the track's own seconds
    const g = { ...c };
    let track = t.id;
    if (d.mode === "move") {
      g.start = Math.max(0, c.start + dt);
      const r = this.rowAt(y);
      if (r && r.kind === "track" && r.track.id !== t.id && r.track.kind === (d.isMidi ? "midi" : "audio")) {
        track = r.track.id;
        g.start = Math.max(0, this.local(r.track, this.proj(t, c.start) + (x - d.x0) / this.pps));
      }
    } else if (d.mode === "left") {
      const lo = Math.max(-c.start, d.isMidi ? -c.offset : -c.offset / (c.speed || 1));
      const s = Math.min(Math.max(dt, lo), c.duration - 0.01);
      g.start = c.start + s;
      g.duration = c.duration - s;
      g.offset = c.offset + s * (d.isMidi ? 1 : c.speed);
    } else if (d.mode === "right") {
      const most = d.isMidi ? Infinity : c.max_duration;
      g.duration = Math.min(most, Math.max(0.01, c.duration + dt));
    } else if (d.mode === "fade_in") {
      g.fade_in = Math.min(c.duration - c.fade_out, Math.max(0, c.fade_in + dt));
    } else if (d.mode === "fade_out") {
      g.fade_out = Math.min(c.duration - c.fade_in, Math.max(0, c.fade_out - dt));
    }
    d.ghost = { clip: g, track };
    this.app.schedule();
  }

  up() {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    this.dirty = true;
    if (d.kind === "loop") {
      if (this.loop && this.loop[1] - this.loop[0] > 0.001 && this.app.transport.loop[0])
        this.app.request("loop", { on: true, start: this.loop[0], end: this.loop[1] });
      return;
    }
    if (d.kind === "point") {
      if (d.moved) this.app.request("set_points", { lane: d.row.lane.id, points: d.points });
      return;
    }
    if (!d.ghost) return;
    const c = d.clip;
    const g = d.ghost.clip;
    if (d.mode === "move") this.app.request("move_clip", { clip: c.id, start: g.start, track: d.ghost.track });
    else if (d.mode === "left") this.app.request("trim_clip", { clip: c.id, start: g.start, duration: g.duration, offset: g.offset });
    else if (d.mode === "right") this.app.request("trim_clip", { clip: c.id, duration: g.duration });
    else this.app.request("fade", { clip: c.id, fade_in: g.fade_in, fade_out: g.fade_out });
  }

  dblclick(e) {
    const { x, y } = this.hit(e);
    const r = this.rowAt(y);
    if (!r || r.kind !== "lane" || x < HEAD) return;
    const pts = this.lanePoints(r);
    const k = pts.findIndex(([px, py]) => Math.abs(px - x) <= 5 && Math.abs(py - y) <= 5);
    const points = r.lane.points.map((p) => [...p]);
    if (k >= 0) points.splice(k, 1);
    else points.push([Math.max(0, this.local(r.track, this.time(x))), this.laneValue(r, y)]);
    points.sort((a, b) => a[0] - b[0]);
    this.app.request("set_points", { lane: r.lane.id, points });
  }

  wheel(e) {
    e.preventDefault();
    const { x } = this.hit(e);
    if (e.ctrlKey || e.metaKey) this.zoom(e.deltaY < 0 ? 1.25 : 0.8, Math.max(HEAD, x));
    else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = e.shiftKey ? e.deltaY : e.deltaX;
      this.scrollX = Math.max(0, this.scrollX + d / this.pps);
    } else {
      const most = Math.max(0, this.height - this.canvas.clientHeight + 20);
      this.scrollY = Math.min(most, Math.max(0, this.scrollY + e.deltaY));
    }
    this.dirty = true;
  }
}

function secondsLabel(t, step) {
  if (step >= 60) return `${Math.floor(t / 60)}:${String(Math.round(t % 60)).padStart(2, "0")}`;
  return step < 1 ? t.toFixed(step < 0.1 ? 2 : 1) + "s" : `${Math.round(t)}s`;
}

function fit(g, text, width) {
  if (g.measureText(text).width <= width) return text;
  let s = text;
  while (s.length > 1 && g.measureText(s + "…").width > width) s = s.slice(0, -1);
  return s + "…";
}

// Interpolate the knots (xs, ys), both non-decreasing, at x: a knot is met exactly; past
// the ends the map goes on as a line, or stands still where the tape stopped. Going
// from child time to project time (``first``), a time reached over a span maps to its
// first project time, as the model's does.
function follow(xs, ys, x, first) {
  const n = xs.length;
  const i = bisect(xs, x); // the first knot at or past x
  if (i < n && xs[i] === x) return ys[i];
  if (i === 0) return line(xs[0], ys[0], xs[1], ys[1], x);
  if (i === n) {
    if (first) {
      let j = n - 1; // the first knot where the tape stood still for good
      while (j > 0 && xs[j - 1] === xs[n - 1]) j--;
      if (j < n - 1) return ys[j];
    }
    return line(xs[n - 2], ys[n - 2], xs[n - 1], ys[n - 1], x);
  }
  return ys[i - 1] + ((x - xs[i - 1]) / (xs[i] - xs[i - 1])) * (ys[i] - ys[i - 1]);
}

function line(x0, y0, x1, y1, x) {
  return x1 > x0 ? y0 + ((x - x0) / (x1 - x0)) * (y1 - y0) : y1;
}

// the first index of the sorted ``values`` at or past ``x``
function bisect(values, x) {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// add to notes their pitch range and longest duration
function summarize(notes) {
  let lo = 127;
  let hi = 0;
  let longest = 0;
  for (let i = 0; i < notes.n; i++) {
    if (notes.pitch[i] < lo) lo = notes.pitch[i];
    if (notes.pitch[i] > hi) hi = notes.pitch[i];
    if (notes.dur[i] > longest) longest = notes.dur[i];
  }
  return Object.assign(notes, { lo, hi, longest });
}
