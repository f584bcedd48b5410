/*
 * dashboard.js - the bed managers' live delayed-discharge dashboard: per ward
 * occupancy, ready and delayed patients and delayed days this month; the
 * delayed patients (longest first) with reason code and attribution edited in
 * place; overdue tasks by discipline; delayed days per day over 30 days by
 * reason; the daily report CSV.
 *
 * Built for an ops-room screen left open all day: events only change state,
 * and one throttled render a few times a second touches only the rows whose
 * content changed, so thousands of beds and a busy stream stay cheap.
 */
"use strict";

(async function () {
	/*
	 * The events that change what this page shows: every episode event
	 * (occupancy, readiness, ward; discharge, A11 cancelling and A13 reopening
	 * take a patient off the counts or put one back), the task events that can
	 * make a task overdue or no longer overdue (a new task never is), and the
	 * delays.  Assessments and chases are not shown here.
	 */
	const STREAM_TYPES = [
		"episode.admitted", "episode.updated", "episode.ready", "episode.transferred",
		"episode.discharged", "episode.cancelled", "episode.reopened",
		"task.updated", "task.overdue",
		"delay.opened", "delay.updated", "delay.closed",
	];
	const me = await CB.requireUser(["bed_manager", "admin"]);
	const canEdit = me.role === "bed_manager";
	const REASON_CODES = Object.keys(CB.REASONS);
	const COLOURS = {
		A: "#1f5fa8", B: "#b35806", C: "#2d7a3a", Di: "#7b3fa0", Dii: "#a0306a",
		E: "#00747a", F: "#8a6d00", G: "#5b5b5b", H: "#b22222", I: "#3d4db7", none: "#9aa5b1",
	};

	const wards = new Map();     /* code -> {code, name, beds, occupied} */
	const episodes = new Map();  /* id -> episode summary (admitted only) */
	const overdue = new Map();   /* task id -> task (open and overdue) */
	let monthDays = null;        /* ward -> delayed days this month, from the report */
	let loading = true;
	let buffered = [];
	const wardRows = new Map();  /* code -> {tr, sig} */
	const delayRows = new Map(); /* episode id -> {tr, sig, dirty} */

	/* Main-thread time spent in this page's own handlers (read by the browser test). */
	window.cbStats = { events: 0, renders: 0, busyMs: 0 };

	function timed(fn) {
		return function () {
			const t0 = performance.now();
			try {
				return fn.apply(this, arguments);
			} finally {
				window.cbStats.busyMs += performance.now() - t0;
			}
		};
	}

	/* ---- state ---------------------------------------------------------------------- */
	function isDelayed(ep) {
		return !!(ep.delay && !ep.delay.closed_at);
	}

	function putEpisode(ep) {
		const old = episodes.get(ep.id);
		if (old && old.version > ep.version)
			return;
		if (ep.state !== "admitted") {
			episodes.delete(ep.id);
			/* its tasks no longer count, as in the server's overdue list */
			for (const [id, t] of overdue)
				if (t.episode_id === ep.id)
					overdue.delete(id);
			return;
		}
		episodes.set(ep.id, Object.assign({}, old || {}, ep));
	}

	function putTask(t) {
		const open = t.status !== "completed" && t.status !== "cancelled";
		const old = overdue.get(t.id);
		if (old && old.version > t.version)
			return;
		if (open && t.overdue)
			overdue.set(t.id, t);
		else
			overdue.delete(t.id);
	}

	function putDelay(d) {
		const ep = episodes.get(d.episode_id);
		if (!ep || (ep.delay && ep.delay.id === d.id && ep.delay.version > d.version))
			return;
		ep.delay = Object.assign({}, ep.delay && ep.delay.id === d.id ? ep.delay : {}, d);
		ep.delaySig = (ep.delaySig || 0) + 1;
	}

	/* The overdue tasks of an episode back on the counts (HL7 A13). */
	async function loadEpisodeOverdue(id) {
		const r = await CB.apiAll("/api/v1/tasks?overdue=true&episode=" + encodeURIComponent(id));
		if (!r.ok || !episodes.has(id))
			return;
		for (const t of r.data.items)
			putTask(t);
		render();
	}

	function apply(type, p) {
		window.cbStats.events++;
		if (type.indexOf("episode.") === 0) {
			putEpisode(p);
			if (type === "episode.reopened" && episodes.has(p.id))
				loadEpisodeOverdue(p.id);
		} else if (type.indexOf("task.") === 0) {
			/* a task of a discharged or cancelled episode stays off the counts */
			if (episodes.has(p.episode_id))
				putTask(p);
		} else if (type.indexOf("delay.") === 0) {
			putDelay(p);
		}
	}

	const onEvent = timed(function (type, p) {
		if (loading) {
			buffered.push([type, p]);
			return;
		}
		apply(type, p);
		render();
	});

	/* ---- loading -------------------------------------------------------------------- */
	async function loadOverdue() {
		const bulk = await CB.apiAll("/api/v1/tasks?overdue=true");
		if (bulk.ok) {
			for (const t of bulk.data.items)
				putTask(t);
			return true;
		}
		/* no bulk endpoint on this server: one call per patient, a few at a time */
		CB.say(CB.$("overdue-msg"), "Counting overdue tasks…", "info");
		await CB.pool(Array.from(episodes.keys()), 6, async function (id) {
			const r = await CB.api("GET", "/api/v1/episodes/" + id + "/tasks");
			if (r.ok)
				for (const t of r.data.items || [])
					putTask(t);
		});
		CB.say(CB.$("overdue-msg"), "");
		return true;
	}

	async function loadReport() {
		const today = CB.londonDate();
		const yesterday = CB.addDays(today, -1);
		const from = CB.addDays(today, -30);
		CB.$("csv").href = "/api/v1/reports/delays?date=" + yesterday + "&format=csv";
		CB.$("csv").setAttribute("download", "delays-" + yesterday + ".csv");
		const r = await CB.api("GET", "/api/v1/reports/delays?from=" + from + "&to=" + yesterday + "&format=json");
		if (!r.ok || !r.data || !Array.isArray(r.data.by_day)) {
			CB.say(CB.$("chart-msg"), r.status === 404 || r.status === 405
				? "The delay report is not available on this server yet."
				: "Could not load the delay report" + (r.error ? ": " + r.error.message : "."), "info");
			drawChart([], from, yesterday);
		} else {
			CB.say(CB.$("chart-msg"), "");
			drawChart(r.data.by_day, from, yesterday);
		}
		/* delayed days this month per ward (to yesterday's midnight) */
		const monthStart = today.slice(0, 8) + "01";
		monthDays = null;
		if (monthStart > yesterday) {
			monthDays = {};
		} else {
			const m = await CB.api("GET", "/api/v1/reports/delays?from=" + monthStart + "&to=" + yesterday + "&format=json");
			if (m.ok && m.data && m.data.by_ward) {
				monthDays = {};
				const bw = m.data.by_ward;
				if (Array.isArray(bw)) {
					for (const w of bw)
						monthDays[w.ward] = w.delayed_days || 0;
				} else {
					for (const k in bw)
						monthDays[k] = typeof bw[k] === "number" ? bw[k] : bw[k].delayed_days || 0;
				}
			}
		}
		CB.$("days-note").textContent = monthDays ? "" : "Delayed days this month are estimated from open delays (the report gives no per-ward figure).";
		render();
	}

	async function load() {
		loading = true;
		buffered = [];
		const w = await CB.api("GET", "/api/v1/wards");
		wards.clear();
		if (w.ok) {
			for (const x of w.data.items || [])
				wards.set(x.code, x);
			CB.say(CB.$("wards-msg"), "");
		} else {
			CB.say(CB.$("wards-msg"), "Could not load the wards: " + w.error.message, "bad");
		}
		const e = await CB.apiAll("/api/v1/episodes");
		episodes.clear();
		overdue.clear();
		if (e.ok) {
			for (const ep of e.data.items)
				putEpisode(ep);
			CB.say(CB.$("dash-msg"), "");
		} else {
			CB.say(CB.$("dash-msg"), "Could not load the patients: " + e.error.message, "bad");
		}
		for (const ep of episodes.values())
			if (!wards.has(ep.ward))
				wards.set(ep.ward, { code: ep.ward, name: ep.ward, beds: 0, occupied: 0 });
		loading = false;
		for (const [type, p] of buffered)
			apply(type, p);
		buffered = [];
		render();
		loadReport();
		/* overdue tasks may take a while without the bulk endpoint: the rest shows first */
		await loadOverdue();
		render();
		document.body.setAttribute("data-loaded", "true");
	}

	/* ---- rendering ------------------------------------------------------------------ */
	function keyedRender(body, map, items, key, sig, build, update) {
		const seen = new Set();
		let prev = null;
		for (const it of items) {
			const k = key(it);
			seen.add(k);
			const s = sig(it);
			let r = map.get(k);
			if (!r) {
				r = { tr: build(it), sig: s, dirty: false };
				map.set(k, r);
			} else if (r.sig !== s) {
				if (update && update(it, r)) {
					r.sig = s;
				} else {
					const tr = build(it);
					r.tr.replaceWith(tr);
					r.tr = tr;
					r.sig = s;
				}
			}
			const want = prev ? prev.nextSibling : body.firstChild;
			if (want !== r.tr)
				body.insertBefore(r.tr, want);
			prev = r.tr;
		}
		for (const [k, r] of map) {
			if (!seen.has(k)) {
				r.tr.remove();
				map.delete(k);
			}
		}
	}

	function delayDaysThisMonth(ep) {
		const d = ep.delay;
		if (!d || !d.opened_at)
			return 0;
		const today = CB.londonDate();
		const monthStart = today.slice(0, 8) + "01";
		const first = CB.londonDate(new Date(Date.parse(d.opened_at) - 1000));
		const last = d.closed_at ? CB.londonDate(new Date(Date.parse(d.closed_at) - 1000)) : CB.addDays(today, -1);
		const a = first > monthStart ? first : monthStart;
		return Math.max(0, CB.dayDiff(a, last) + 1);
	}

	function wardStats() {
		const s = new Map();
		for (const code of wards.keys())
			s.set(code, { occupied: 0, ready: 0, delayed: 0, days: 0 });
		for (const ep of episodes.values()) {
			let x = s.get(ep.ward);
			if (!x) {
				x = { occupied: 0, ready: 0, delayed: 0, days: 0 };
				s.set(ep.ward, x);
			}
			x.occupied++;
			if (ep.ready)
				x.ready++;
			if (isDelayed(ep)) {
				x.delayed++;
				x.days += delayDaysThisMonth(ep);
			}
		}
		if (monthDays)
			for (const [code, x] of s)
				x.days = monthDays[code] || 0;
		return s;
	}

	function renderWards(stats) {
		const list = Array.from(wards.values()).sort(function (a, b) { return a.code < b.code ? -1 : 1; });
		const tot = { occupied: 0, beds: 0, ready: 0, delayed: 0, days: 0 };
		for (const w of list) {
			const x = stats.get(w.code);
			tot.occupied += x.occupied;
			tot.beds += w.beds || 0;
			tot.ready += x.ready;
			tot.delayed += x.delayed;
			tot.days += x.days;
		}
		keyedRender(CB.$("wards-body"), wardRows, list,
			function (w) { return w.code; },
			function (w) { const x = stats.get(w.code); return [w.name, w.beds, x.occupied, x.ready, x.delayed, x.days].join("|"); },
			function (w) {
				const x = stats.get(w.code);
				const pct = w.beds ? Math.min(100, Math.round((100 * x.occupied) / w.beds)) : 0;
				const fill = CB.el("span");
				fill.style.width = pct + "%";
				return CB.el("tr", { "data-ward": w.code },
					CB.el("th", { scope: "row" }, w.code, w.name && w.name !== w.code ? CB.el("span", { class: "note", text: " " + w.name }) : null),
					CB.el("td", { class: "num", "data-col": "occupied" }, x.occupied + " / " + (w.beds || "?"),
						CB.el("span", { class: "bar" + (pct >= 100 ? " full" : ""), "aria-hidden": "true" }, fill)),
					CB.el("td", { class: "num", "data-col": "ready", text: String(x.ready) }),
					CB.el("td", { class: "num", "data-col": "delayed", text: String(x.delayed) }),
					CB.el("td", { class: "num", "data-col": "days", text: String(x.days) }));
			});
		CB.$("k-occupied").textContent = tot.occupied + " / " + tot.beds;
		CB.$("k-ready").textContent = String(tot.ready);
		CB.$("k-delayed").textContent = String(tot.delayed);
		CB.$("k-days").textContent = String(tot.days);
	}

	const rowNotes = new Map(); /* episode id -> [text, kind]: survives a rebuilt row */

	function setNote(id, text, kind) {
		rowNotes.set(id, [text, kind]);
		const r = delayRows.get(id);
		const note = r && r.tr.querySelector(".row-msg");
		if (note) {
			note.className = "row-msg " + (kind || "");
			note.textContent = text;
		}
	}

	async function saveDelay(ep, reason, attribution, r) {
		if (!reason || !attribution) {
			setNote(ep.id, "Choose a reason and an attribution.", "bad");
			return;
		}
		if (r.saving)
			return;
		/* the button stays enabled (and focused) while saving; a second click waits */
		r.saving = true;
		setNote(ep.id, "Saving…", "");
		const res = await CB.api("PUT", "/api/v1/episodes/" + ep.id + "/delay", { reason_code: reason, attribution: attribution },
			ep.delay && ep.delay.version ? { "If-Match": '"' + ep.delay.version + '"' } : {});
		r.saving = false;
		if (!res.ok) {
			setNote(ep.id, res.status === 404 && /path/.test(res.error.message)
				? "Setting delay reasons is not available on this server yet."
				: res.error.message, "bad");
			return;
		}
		const d = res.data && res.data.reason_code !== undefined ? res.data : res.data && res.data.delay;
		r.dirty = false;
		if (d) {
			d.episode_id = d.episode_id || ep.id;
			putDelay(d);
		}
		setNote(ep.id, "Saved", "ok");
		render();
	}

	function buildDelayRow(ep) {
		const d = ep.delay || {};
		const name = CB.patientName(ep.patient);
		const rs = CB.el("select", { "aria-label": "Delay reason for " + name, class: "reason", disabled: !canEdit });
		rs.appendChild(CB.el("option", { value: "", text: "No reason yet", selected: !d.reason_code }));
		for (const c of REASON_CODES)
			rs.appendChild(CB.el("option", { value: c, selected: d.reason_code === c, text: c + " — " + CB.REASONS[c] }));
		const as = CB.el("select", { "aria-label": "Attribution for " + name, class: "attribution", disabled: !canEdit });
		as.appendChild(CB.el("option", { value: "", text: "Not attributed", selected: !d.attribution }));
		for (const a in CB.ATTRIBUTIONS)
			as.appendChild(CB.el("option", { value: a, selected: d.attribution === a, text: CB.ATTRIBUTIONS[a] }));
		const kept = rowNotes.get(ep.id) || ["", ""];
		const note = CB.el("span", { class: "row-msg " + kept[1], role: "status", text: kept[0] });
		const button = CB.el("button", { type: "button", class: "save", text: "Save", "aria-label": "Save the delay of " + name, disabled: !canEdit });
		const tr = CB.el("tr", { "data-id": ep.id },
			CB.el("th", { scope: "row", text: name }),
			CB.el("td", { text: ep.ward + " · " + (ep.bed || "—") }),
			CB.el("td", { class: "num days", text: String(CB.delayDays(d)) }),
			CB.el("td", {}, rs),
			CB.el("td", {}, as),
			CB.el("td", {}, button, note));
		const mark = function () {
			const r = delayRows.get(ep.id);
			if (r)
				r.dirty = true;
			setNote(ep.id, "", "");
		};
		rs.addEventListener("change", mark);
		as.addEventListener("change", mark);
		button.addEventListener("click", function () {
			const cur = episodes.get(ep.id);
			if (cur)
				saveDelay(cur, rs.value, as.value, delayRows.get(ep.id));
		});
		return tr;
	}

	/* An edited row keeps what the user chose: only its day count follows the data. */
	function updateDelayRow(ep, r) {
		if (!r.dirty && !r.tr.contains(document.activeElement))
			return false;
		r.tr.querySelector(".days").textContent = String(CB.delayDays(ep.delay));
		return true;
	}

	function renderDelayed() {
		const list = [];
		for (const ep of episodes.values())
			if (isDelayed(ep))
				list.push({ ep: ep, days: CB.delayDays(ep.delay) });
		list.sort(function (a, b) {
			return b.days - a.days || (a.ep.ward + a.ep.bed < b.ep.ward + b.ep.bed ? -1 : 1);
		});
		keyedRender(CB.$("delayed-body"), delayRows, list,
			function (x) { return x.ep.id; },
			function (x) { const d = x.ep.delay; return [x.days, d.reason_code, d.attribution, d.version, x.ep.bed, x.ep.ward, x.ep.version].join("|"); },
			function (x) { return buildDelayRow(x.ep); },
			function (x, r) { return updateDelayRow(x.ep, r); });
		CB.say(CB.$("delayed-msg"), list.length === 0 ? "No delayed patients." : "", "info");
	}

	let overdueSig = "";
	function renderOverdue() {
		const by = {};
		for (const t of overdue.values()) {
			const x = (by[t.discipline] = by[t.discipline] || { n: 0, oldest: null });
			x.n++;
			if (t.due_at && (!x.oldest || t.due_at < x.oldest))
				x.oldest = t.due_at;
		}
		const discs = ["ward", "social_work", "ot", "physio"].concat(Object.keys(by).filter(function (d) {
			return ["ward", "social_work", "ot", "physio"].indexOf(d) < 0;
		}));
		const sig = JSON.stringify(by);
		CB.$("k-overdue").textContent = String(overdue.size);
		if (sig === overdueSig)
			return;
		overdueSig = sig;
		const body = CB.$("overdue-body");
		CB.clear(body);
		const names = { ward: "Ward nursing", social_work: "Social work", ot: "Occupational therapy", physio: "Physiotherapy" };
		for (const d of discs) {
			const x = by[d] || { n: 0, oldest: null };
			body.appendChild(CB.el("tr", { "data-discipline": d },
				CB.el("th", { scope: "row", text: names[d] || d }),
				CB.el("td", { class: "num", text: String(x.n) }),
				CB.el("td", { text: x.oldest ? "due " + CB.showTime(x.oldest) : "—" })));
		}
	}

	function renderNow() {
		const t0 = performance.now();
		window.cbStats.renders++;
		renderWards(wardStats());
		renderDelayed();
		renderOverdue();
		window.cbStats.busyMs += performance.now() - t0;
	}

	const render = CB.throttle(renderNow, 250);

	/* ---- chart: stacked bars of delayed days per day, by reason (SVG, no library) ---- */
	const SVG = "http://www.w3.org/2000/svg";

	function svg(tag, attrs, text) {
		const e = document.createElementNS(SVG, tag);
		for (const k in attrs)
			e.setAttribute(k, String(attrs[k]));
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	let lastChart = null;
	window.addEventListener("resize", CB.throttle(function () {
		if (lastChart)
			drawChart(lastChart[0], lastChart[1], lastChart[2]);
	}, 300));

	function drawChart(byDay, from, to) {
		const box = CB.$("chart");
		CB.clear(box);
		const days = [];
		const index = {};
		for (const d of byDay || []) {
			/* each patient delayed at a date's midnight is one delayed day of that date */
			const n = typeof d.delayed_days === "number" ? d.delayed_days : d.patients_delayed || 0;
			const br = Object.assign({}, d.by_reason || {});
			if (br.unrecorded !== undefined) {
				br.none = (br.none || 0) + br.unrecorded;
				delete br.unrecorded;
			}
			index[d.date] = { date: d.date, delayed_days: n, by_reason: br };
		}
		for (let d = from; d <= to; d = CB.addDays(d, 1))
			days.push(index[d] || { date: d, delayed_days: 0, by_reason: {} });
		/* drawn at the box's own size in pixels: text stays readable on any screen */
		const W = Math.max(480, box.clientWidth || 960), H = 260, L = 44, B = 36, T = 10, R = 8;
		let max = 1, total = 0;
		for (const d of days) {
			max = Math.max(max, d.delayed_days || 0);
			total += d.delayed_days || 0;
		}
		const step = Math.max(1, Math.ceil(max / 5));
		const top = step * Math.ceil(max / step);
		lastChart = [byDay, from, to];
		const root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": "Delayed days per day from " + from + " to " + to + ": " + total + " in all" });
		const plotH = H - B - T, bw = (W - L - R) / Math.max(1, days.length);
		for (let v = 0; v <= top; v += step) {
			const y = T + plotH - (plotH * v) / top;
			root.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#c9d1d9", "stroke-width": 1 }));
			root.appendChild(svg("text", { x: L - 6, y: y + 4, "text-anchor": "end", "font-size": 12, fill: "#1b1f24" }, String(v)));
		}
		days.forEach(function (d, i) {
			const x = L + i * bw + 2;
			let y = T + plotH;
			const reasons = Object.assign({}, d.by_reason || {});
			let known = 0;
			for (const c in reasons)
				known += reasons[c];
			if ((d.delayed_days || 0) > known)
				reasons.none = d.delayed_days - known;
			for (const c of REASON_CODES.concat(["none"])) {
				const n = reasons[c] || 0;
				if (!n)
					continue;
				const h = (plotH * n) / top;
				y -= h;
				const rect = svg("rect", { x: x, y: y, width: Math.max(1, bw - 4), height: h, fill: COLOURS[c] || COLOURS.none });
				rect.appendChild(svg("title", {}, d.date + ": " + n + " day" + (n === 1 ? "" : "s") + (c === "none" ? " without a reason" : ", reason " + c)));
				root.appendChild(rect);
			}
			if (i % 5 === 0 || i === days.length - 1)
				root.appendChild(svg("text", { x: x + bw / 2, y: H - B + 16, "text-anchor": "middle", "font-size": 12, fill: "#1b1f24" }, CB.showDate(d.date)));
		});
		root.appendChild(svg("line", { x1: L, x2: W - R, y1: T + plotH, y2: T + plotH, stroke: "#1b1f24", "stroke-width": 1 }));
		box.appendChild(root);
		const legend = CB.$("legend");
		CB.clear(legend);
		for (const c of REASON_CODES.concat(["none"])) {
			const sw = CB.el("span", { class: "swatch", "aria-hidden": "true" });
			sw.style.background = COLOURS[c];
			legend.appendChild(CB.el("li", {}, sw, c === "none" ? "No reason" : c + " " + CB.REASONS[c]));
		}
	}

	/* ---- start ---------------------------------------------------------------------- */
	new CB.Live(STREAM_TYPES, "", onEvent, load);
	await load();
	/* day counts move at midnight; the report's figures only then */
	setInterval(function () { render(); }, 60000);
	setInterval(loadReport, 15 * 60000);
})();
