// The mixer: a strip per track (tree order) and the master: fader, pan, mute, solo,
// peak/RMS meters (every track's, a metatrack's too), and a metatrack's speed, offset and pitch.
const FADER_MIN = -60;
const METER_FLOOR = -60;
const METER_TOP = 6;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

export class Mixer {
  constructor(app, root) {
    this.app = app;
    this.root = root;
    this.strips = new Map();
    this.layout = "";
    // only the strips in view draw their meters (a 64-track mixer shows a few at a time)
    this.seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const p = this.strips.get(e.target.dataset.track);
        if (p) p.visible = e.isIntersecting;
      }
    });
  }

  setState(state) {
    const tracks = [...state.tracks, { ...state.master, kind: "master" }];
    const layout = tracks.map((t) => `${t.id}:${t.kind}:${t.name}`).join("|");
    if (layout !== this.layout) {
      this.layout = layout;
      this.root.replaceChildren();
      this.strips.clear();
      this.seen.disconnect();
      for (const t of tracks) this.root.append(this.build(t));
    }
    for (const t of tracks) this.update(t);
  }

  build(t) {
    const id = t.id;
    const set = (name, value) => this.app.request("set", { track: id, name, value });
    const fader = el("input", { type: "range", min: FADER_MIN, max: 12, step: 0.1, className: "fader", title: "volume (dB)" });
    fader.dataset.track = id;
    fader.addEventListener("input", () => {
      const v = Number(fader.value);
      set("volume_db", v <= FADER_MIN ? null : v);
    });
    fader.addEventListener("dblclick", () => set("volume_db", 0));
    const meter = el("canvas", { className: "meter", width: 14, height: 120 });
    const db = el("span", { className: "db" });
    const pan = el("input", { type: "range", min: -1, max: 1, step: 0.01, className: "pan", title: "pan" });
    pan.addEventListener("input", () => set("pan", Number(pan.value)));
    pan.addEventListener("dblclick", () => set("pan", 0));
    const mute = el("button", { className: "mute", textContent: "M", title: "mute" });
    const solo = el("button", { className: "solo", textContent: "S", title: "solo" });
    mute.onclick = () => set("mute", !mute.classList.contains("on"));
    solo.onclick = () => set("solo", !solo.classList.contains("on"));
    const strip = el(
      "div",
      { className: `strip kind-${t.kind}` },
      el("div", { className: "name", textContent: t.name, title: t.name }),
      el("div", { className: "body" }, fader, meter),
      db,
      pan,
      el("div", { className: "buttons" }, mute, ...(t.kind === "master" ? [] : [solo])),
    );
    strip.dataset.track = id;
    const parts = { strip, fader, meter, db, pan, mute, solo, meta: null };
    if (t.kind === "meta") {
      const field = (name, label, step) => {
        const input = el("input", { type: "number", step, title: label });
        input.addEventListener("change", () => set(name, Number(input.value)));
        return [el("label", { textContent: label }, input), input];
      };
      const [ls, speed] = field("speed", "speed", 0.01);
      const [lo, offset] = field("offset", "offset", 0.01);
      const [lp, pitch] = field("pitch", "pitch", 0.1);
      strip.append(el("div", { className: "meta" }, ls, lo, lp));
      parts.meta = { speed, offset, pitch };
    }
    this.strips.set(String(id), parts);
    this.seen.observe(strip);
    return strip;
  }

  update(t) {
    const p = this.strips.get(String(t.id));
    if (!p) return;
    const active = document.activeElement;
    const vol = t.volume_db === null ? FADER_MIN : t.volume_db;
    if (active !== p.fader) p.fader.value = vol;
    p.db.textContent = t.volume_db === null ? "-inf dB" : `${t.volume_db.toFixed(1)} dB`;
    if (active !== p.pan) p.pan.value = t.pan;
    p.mute.classList.toggle("on", !!t.mute);
    p.solo.classList.toggle("on", !!t.solo);
    if (p.meta && t.meta) {
      for (const k of ["speed", "offset", "pitch"]) if (active !== p.meta[k]) p.meta[k].value = t.meta[k];
    }
  }

  drawMeters(meters) {
    // once per meters message (30 Hz), and only the meters whose levels moved
    for (const [id, p] of this.strips) {
      const peak = meters.peak[id] || [0, 0];
      const rms = meters.rms[id] || [0, 0];
      const key = `${peak[0]},${peak[1]},${rms[0]},${rms[1]}`;
      if (p.visible === false || p.shown === key) continue;
      p.shown = key;
      p.meter.dataset.peak = Math.max(peak[0], peak[1]).toFixed(5);
      const c = p.meter;
      const g = c.getContext("2d");
      g.fillStyle = "#111";
      g.fillRect(0, 0, c.width, c.height);
      for (let ch = 0; ch < 2; ch++) {
        const x = ch * 7;
        const hp = frac(peak[ch]) * c.height;
        const hr = frac(rms[ch]) * c.height;
        g.fillStyle = peak[ch] >= 1 ? "#e5534b" : "#4caf50";
        g.fillRect(x, c.height - hp, 6, hp);
        g.fillStyle = "#a5e0a8";
        g.fillRect(x, c.height - hr, 6, hr);
      }
    }
  }
}

// where a linear level sits on a meter (−60..+6 dBFS), 0..1
export function frac(level) {
  if (!(level > 0)) return 0;
  const db = 20 * Math.log10(level);
  return Math.min(1, Math.max(0, (db - METER_FLOOR) / (METER_TOP - METER_FLOOR)));
}
