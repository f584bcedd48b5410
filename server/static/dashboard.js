/*
 * dashboard.js - the bed managers' live discharge dashboard (issue 14): per
 * ward occupancy and patients with no criteria to reside (NCTR); the NCTR
 * patients by name from the moment a review records it, with the discharge
 * ready date (DRD), days since it and the primary barrier; NCTR patients by
 * primary barrier reason; overdue tasks by discipline; long stays (stranded
 * 7+, super-stranded 21+); this month's discharges by days from the DRD; the
 * daily sitrep for yesterday with its submit button and any amendment beside
 * the submitted figures; today's discharges by actual pathway and by coded
 * destination (the discharges report, for the ward filtered on), moving as
 * patients are discharged or a discharge is undone.
 *
 * Built for an ops-room screen left open all day: events only change state,
 * and one throttled render a few times a second touches only the rows whose
 * content changed, so thousands of beds and a busy stream stay cheap.  The
 * reports are fetched again (debounced) only after an event that can change
 * their figures: never for the many plain episode updates.
 */
"use strict";

(async function () {
	/*
	 * The events that change what this page shows: every episode event
	 * (occupancy, readiness - a review recording NCTR raises episode.ready -,
	 * ward; discharge, A11 cancelling and A13 reopening take a patient off
	 * the counts or put one back), reviews, the barriers (the primary one is
	 * shown per patient), the task events that can make a task overdue or no
	 * longer overdue (a new task never is), a sitrep submitted elsewhere and
	 * the referrals to the hub (each NCTR patient's referral state).
	 */
	const STREAM_TYPES = [
		"episode.admitted", "episode.updated", "episode.ready", "episode.ready_withdrawn",
		"episode.transferred",
		"episode.discharged", "episode.cancelled", "episode.reopened",
		"review.recorded",
		"barrier.opened", "barrier.updated", "barrier.closed",
		"task.created", "task.updated", "task.overdue",
		"sitrep.submitted",
		"referral.created", "referral.updated",
	];
	/*
	 * ?wall=1: the operations-centre screen (large type, no controls, still live);
	 * ?ward=CODE: the ward filter, kept in the address so a wall display can show one ward.
	 */
	const params = new URLSearchParams(location.search);
	const wall = params.get("wall") === "1";
	let wardFilter = params.get("ward") || "";
	if (wall)
		document.body.classList.add("wall");
	const me = await CB.requireUser(["bed_manager", "admin"]);
	const canSubmit = me.role === "bed_manager";

	const wards = new Map();     /* code -> {code, name, beds, occupied} */
	const episodes = new Map();  /* id -> episode summary (admitted only) */
	const overdue = new Map();   /* task id -> task (open and overdue) */
	const openTasks = new Map(); /* episode id -> Map(task id -> task): open tasks, for the NCTR rows */
	let openTasksOk = false;     /* the open tasks loaded (else the column says "–") */
	let chaseDiscipline = null;  /* the overdue list shown: null closed, "" every discipline */
	let loading = true;
	let loaded = false;
	let episodesOk = false;      /* the patients loaded: one missing has left since the report */
	let buffered = [];
	const wardRows = new Map();  /* code -> {tr, sig} */
	const nctrRows = new Map();  /* episode id -> {tr, sig} */
	const barrierRows = new Map(); /* reason key -> {tr, sig} */
	const longRows = new Map();  /* episode id -> {tr, sig} */
	let longStay = null;         /* the long-stay report, or null */
	const drdDates = new Map();  /* ready_at -> London date (cached: formatting is not free) */
	const newlyNctr = [];        /* names that became NCTR since the last render, for the live region */

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
	function isNctr(ep) {
		return !!ep.ready;
	}

	/*
	 * Keep an episode; says which reports its change may move ("figures":
	 * readiness or state changed, as a late review or discharge does).
	 */
	function putEpisode(ep) {
		const old = episodes.get(ep.id);
		if (old && old.version > ep.version)
			return false;
		if (ep.state !== "admitted") {
			episodes.delete(ep.id);
			openTasks.delete(ep.id);
			/* its tasks no longer count, as in the server's overdue list */
			for (const [id, t] of overdue)
				if (t.episode_id === ep.id)
					overdue.delete(id);
			return !!old;
		}
		const next = Object.assign({}, old || {}, ep);
		/* an older barrier event than the episode itself never wins over it */
		if (ep.primary_barrier === undefined && old)
			next.primary_barrier = old.primary_barrier;
		episodes.set(ep.id, next);
		if (loaded && isNctr(next) && !(old && isNctr(old)))
			newlyNctr.push(CB.patientName(next.patient) + ", ward " + next.ward);
		return !old || old.ready_at !== next.ready_at;
	}

	function putTask(t) {
		const open = t.status !== "completed" && t.status !== "cancelled";
		putOpenTask(t, open);
		const old = overdue.get(t.id);
		if (old && old.version > t.version)
			return;
		if (open && t.overdue)
			overdue.set(t.id, t);
		else
			overdue.delete(t.id);
	}

	function putOpenTask(t, open) {
		let m = openTasks.get(t.episode_id);
		const old = m && m.get(t.id);
		if (old && old.version > t.version)
			return;
		if (open) {
			if (!m)
				openTasks.set(t.episode_id, (m = new Map()));
			m.set(t.id, t);
		} else if (m) {
			m.delete(t.id);
		}
	}

	/* "3 (1 overdue)", or "–" before the open tasks are known */
	function openTasksText(id) {
		if (!openTasksOk)
			return "–";
		const m = openTasks.get(id);
		let n = 0, late = 0;
		for (const t of m ? m.values() : []) {
			n++;
			late += t.overdue ? 1 : 0;
		}
		return String(n) + (late ? " (" + late + " overdue)" : "");
	}

	function wardShown(code) {
		return !wardFilter || code === wardFilter;
	}

	/*
	 * A barrier changed: the episode's primary barrier is the open one marked
	 * primary.  The one losing primary through another's change gets its own
	 * barrier.updated, in either order, so only a change of the barrier the
	 * episode shows now clears it.
	 */
	function putBarrier(b) {
		const ep = episodes.get(b.episode_id);
		if (!ep)
			return;
		const cur = ep.primary_barrier;
		if (cur && cur.id === b.id && cur.version > b.version)
			return;
		if (b.open && b.primary) {
			ep.primary_barrier = {
				id: b.id, reason_list: b.reason_list, reason: b.reason, reason_label: b.reason_label,
				owner: b.owner, opened_at: b.opened_at, version: b.version,
			};
		} else if (cur && cur.id === b.id) {
			ep.primary_barrier = null;
		}
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
			const moved = putEpisode(p);
			if (type === "episode.reopened" && episodes.has(p.id))
				loadEpisodeOverdue(p.id);
			/* plain updates (EDD, bed, pathway) move no report figure */
			if (type === "episode.admitted" || type === "episode.discharged" ||
			    type === "episode.reopened" || type === "episode.cancelled")
				reports.schedule(["longStay", "sitrep", "drd"]);
			/* today's discharges: a discharge, or one undone (a reopen) */
			if (type === "episode.discharged" || type === "episode.reopened")
				reports.schedule(["discharges"]);
			else if (moved)
				reports.schedule(["sitrep"]);
		} else if (type.indexOf("barrier.") === 0) {
			putBarrier(p);
		} else if (type === "review.recorded") {
			/* NCTR from the decided time: shown at once, whichever of the review and the
			 * episode event (same transaction) comes first; the episode's own event
			 * brings its version */
			const ep = episodes.get(p.episode_id);
			if (ep && p.ready_change === "set" && !ep.ready) {
				ep.ready = true;
				ep.ready_at = p.decided_at;
				newlyNctr.push(CB.patientName(ep.patient) + ", ward " + ep.ward);
				reports.schedule(["sitrep"]);
			} else if (ep && p.ready_change === "reversed" && ep.ready) {
				ep.ready = false;
				ep.ready_at = null;
				reports.schedule(["sitrep"]);
			}
		} else if (type.indexOf("task.") === 0) {
			/* a task of a discharged or cancelled episode stays off the counts */
			if (episodes.has(p.episode_id))
				putTask(p);
		} else if (type.indexOf("referral.") === 0) {
			const ep = p.referral && episodes.get(p.referral.episode_id);
			if (ep)
				ep.referral = CB.referralNewer(ep.referral, p.referral);
		} else if (type === "sitrep.submitted") {
			if (p && p.date === sitrepDate())
				showSitrep({ ok: true, status: 200, data: p });
			else
				reports.schedule(["sitrep"]);
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

	/* Every open task (the NCTR rows' "open tasks"); the overdue ones come with them too. */
	async function loadOpenTasks() {
		const r = await CB.apiAll("/api/v1/tasks?status=open");
		if (!r.ok)
			return;
		for (const t of r.data.items)
			if (episodes.has(t.episode_id))
				putOpenTask(t, true);
		openTasksOk = true;
	}

	async function load() {
		loading = true;
		loaded = false; /* a reload (stream reset) announces no patient as newly NCTR */
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
		openTasks.clear();
		openTasksOk = false;
		episodesOk = e.ok;
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
		loaded = true;
		render();
		/* the reports and the overdue tasks may take a while: the patients show first */
		await Promise.all([reports.load(["longStay", "sitrep", "drd", "discharges"]), loadOverdue(), loadOpenTasks()]);
		fillWardFilter();
		render();
		document.body.setAttribute("data-loaded", "true");
	}

	/* ---- the reports (GET /api/v1/reports/…) ------------------------------------------ */
	function sitrepDate() {
		return CB.addDays(CB.londonDate(), -1);
	}

	/* A report that failed: "not available" for a server without it, else the message. */
	function reportFailed(r, what, msgId, boxId) {
		CB.$(boxId).hidden = true;
		CB.say(CB.$(msgId), r.status === 404 || r.status === 405
			? "Report unavailable: this server has no " + what + " report yet."
			: "Could not load the " + what + " report" + (r.error ? ": " + r.error.message : "."),
		r.status === 404 || r.status === 405 ? "info" : "bad");
		CB.$(msgId).setAttribute("data-unavailable", "true");
	}

	function reportShown(msgId, boxId) {
		CB.$(boxId).hidden = false;
		CB.say(CB.$(msgId), "");
		CB.$(msgId).removeAttribute("data-unavailable");
	}

	const reports = {
		timer: null,
		pending: new Set(),
		/* fetch these reports again a moment after the last change that asked for them */
		schedule: function (names) {
			if (!loaded)
				return;
			for (const n of names)
				this.pending.add(n);
			clearTimeout(this.timer);
			const self = this;
			this.timer = setTimeout(function () {
				const todo = Array.from(self.pending);
				self.pending.clear();
				self.load(todo);
			}, 700);
		},
		load: async function (names) {
			const jobs = [];
			if (names.indexOf("longStay") >= 0)
				jobs.push(loadLongStay());
			if (names.indexOf("sitrep") >= 0)
				jobs.push(loadSitrep());
			if (names.indexOf("drd") >= 0)
				jobs.push(loadDrd());
			if (names.indexOf("discharges") >= 0)
				jobs.push(loadDischarges());
			await Promise.all(jobs);
		},
	};

	async function loadLongStay() {
		const r = await CB.api("GET", "/api/v1/reports/long-stay");
		if (!r.ok || !r.data || !Array.isArray(r.data.patients)) {
			longStay = null;
			reportFailed(r, "long-stay", "longstay-msg", "longstay-report");
		} else {
			longStay = r.data;
			reportShown("longstay-msg", "longstay-report");
		}
		render();
	}

	const BANDS = ["0", "1", "2-3", "4-6", "7-13", "14-20", "21+"];

	function bandLabel(b) {
		if (b === "0")
			return "0 (discharged on the DRD)";
		if (b === "1")
			return "1 day";
		return b.replace("-", "–") + " days";
	}

	function fmtNumber(v, digits) {
		return typeof v === "number" ? v.toFixed(digits) : "–";
	}

	async function loadDrd() {
		const month = CB.londonDate().slice(0, 7);
		const r = await CB.api("GET", "/api/v1/reports/drd?month=" + month);
		const t = r.ok && r.data ? r.data.trust : null;
		if (!t || !t.bands) {
			reportFailed(r, "discharge ready date", "drd-msg", "drd-report");
			return;
		}
		reportShown("drd-msg", "drd-report");
		const body = CB.$("drd-body");
		CB.clear(body);
		for (const b of BANDS)
			body.appendChild(CB.el("tr", { "data-band": b },
				CB.el("th", { scope: "row", text: bandLabel(b) }),
				CB.el("td", { class: "num", text: String(t.bands[b] || 0) })));
		body.appendChild(CB.el("tr", { "data-band": "no_drd" },
			CB.el("th", { scope: "row", text: "No DRD recorded" }),
			CB.el("td", { class: "num", text: String(t.no_drd || 0) })));
		CB.$("drd-discharges").textContent = String(t.discharges || 0);
		CB.$("drd-average").textContent = typeof t.average_delay_days === "number"
			? fmtNumber(t.average_delay_days, 1) + " days" : "–";
		CB.$("drd-share").textContent = typeof t.on_drd_share === "number"
			? Math.round(t.on_drd_share * 100) + "%" : "–";
		CB.$("drd-beddays").textContent = String(t.delayed_bed_days || 0);
	}

	/*
	 * Today's discharges (London's day, so far) by actual pathway and by
	 * coded destination: GET /api/v1/reports/discharges, for the ward
	 * filtered on.  A reply for another ward than the one now chosen (the
	 * filter changed meanwhile) is dropped: the newer request draws.
	 */
	const DIS_PATHWAYS = [["pathway_0", "0 — home, no new or extra support"],
		["pathway_1", "1 — home with new or extra support"],
		["pathway_2", "2 — short-term rehabilitation or care in a bedded setting"],
		["pathway_3", "3 — new residential or nursing home care"], ["not_recorded", "Not recorded"]];
	const DIS_DESTINATIONS = [["usual_residence", "Usual place of residence"], ["care_home", "Care home"],
		["other_hospital", "Other hospital"], ["died", "Died"], ["other", "Other"], ["not_recorded", "Not recorded"]];
	let dischargesDay = null;   /* the London date the panel counts */

	function disRows(body, attr, rows, counts) {
		CB.clear(body);
		for (const [key, label] of rows)
			body.appendChild(CB.el("tr", { ["data-" + attr]: key },
				CB.el("th", { scope: "row", text: label }),
				CB.el("td", { class: "num", "data-col": "count", text: String(counts[key] || 0) })));
		body.appendChild(CB.el("tr", { ["data-" + attr]: "total", class: "total" },
			CB.el("th", { scope: "row", text: "Total" }),
			CB.el("td", { class: "num", "data-col": "count", text: String(counts.total || 0) })));
	}

	async function loadDischarges() {
		const ward = wardFilter;
		const day = CB.londonDate();
		const r = await CB.api("GET", "/api/v1/reports/discharges" + (ward ? "?ward=" + encodeURIComponent(ward) : ""));
		if (ward !== wardFilter)
			return;
		if (!r.ok || !r.data || !r.data.by_pathway || !r.data.by_destination) {
			reportFailed(r, "discharges", "dis-msg", "dis-pathway");
			CB.$("dis-dest").hidden = true;
			return;
		}
		reportShown("dis-msg", "dis-pathway");
		CB.$("dis-dest").hidden = false;
		dischargesDay = day;
		disRows(CB.$("dis-pathway-body"), "pathway", DIS_PATHWAYS, r.data.by_pathway);
		disRows(CB.$("dis-dest-body"), "destination", DIS_DESTINATIONS, r.data.by_destination);
		const n = r.data.total || 0;
		CB.$("dis-which").textContent = ward ? "(ward " + ward + ")" : "(all wards)";
		CB.$("dis-total").textContent = (n === 1 ? "1 patient" : n + " patients") + " discharged today so far (" +
			CB.showDate(day) + ")" + (ward ? " from ward " + ward : "") + ".";
	}

	/* The sitrep's figures, in the order of the return; path into the day object. */
	const SITREP_ROWS = [
		["nctr_at_snapshot", "NCTR at the midnight snapshot"],
		["nctr_during_day", "NCTR at any time during the day"],
		["discharged.pathway_0", "Discharged, pathway 0"],
		["discharged.pathway_1", "Discharged, pathway 1"],
		["discharged.pathway_2", "Discharged, pathway 2"],
		["discharged.pathway_3", "Discharged, pathway 3"],
		["discharged.not_recorded", "Discharged, pathway not recorded"],
		["discharged.total", "Discharged, total"],
		["still_in_hospital", "Still in hospital"],
	];

	function figure(obj, path) {
		let v = obj;
		for (const k of path.split(".")) {
			if (!v || typeof v !== "object")
				return undefined;
			v = v[k];
		}
		return v;
	}

	let sitrepDay = null; /* the date the sitrep shown is for */

	async function loadSitrep() {
		const date = sitrepDate();
		CB.$("csv").href = "/api/v1/reports/sitrep?date=" + date + "&format=csv";
		CB.$("csv").setAttribute("download", "sitrep-" + date + ".csv");
		const r = await CB.api("GET", "/api/v1/reports/sitrep?date=" + date);
		showSitrep(r);
	}

	function showSitrep(r) {
		const d = r.ok ? r.data : null;
		if (!d || typeof d.nctr_at_snapshot !== "number") {
			sitrepDay = null;
			CB.$("sitrep-submit").hidden = true;
			reportFailed(r, "sitrep", "sitrep-msg", "sitrep-report");
			return;
		}
		reportShown("sitrep-msg", "sitrep-report");
		sitrepDay = d.date;
		CB.$("sitrep-date").textContent = "for " + CB.showDate(d.date);
		const sub = d.submission || null;
		const named = new Set();
		for (const a of (sub && sub.amendments) || [])
			named.add(a.field);
		const body = CB.$("sitrep-body");
		CB.clear(body);
		for (const [path, label] of SITREP_ROWS) {
			const now = figure(d, path);
			const then = sub ? figure(sub.figures, path) : undefined;
			const short = path.split(".").pop();
			const amended = sub && (named.has(path) || named.has(short) || named.has(path.replace(".", "_")) ||
				(typeof then === "number" && typeof now === "number" && then !== now));
			body.appendChild(CB.el("tr", { "data-field": path, class: amended ? "amended" : null },
				CB.el("th", { scope: "row", text: label }),
				CB.el("td", { class: "num now", text: typeof now === "number" ? String(now) : "–" }),
				CB.el("td", { class: "num submitted", text: typeof then === "number" ? String(then) : "–" }),
				CB.el("td", { class: "amendment" }, amended
					? CB.el("span", { class: "badge amended", text: "amended: submitted " + then + ", now " + now })
					: null)));
		}
		CB.$("sitrep-submission").textContent = sub
			? "Submitted by " + sub.submitted_by + " at " + CB.showTime(sub.submitted_at) +
			  (sub.version > 1 ? " (version " + sub.version + ")" : "") + "."
			: "Not submitted yet.";
		const button = CB.$("sitrep-submit");
		button.hidden = !canSubmit;
		CB.$("sitrep-role").hidden = canSubmit;
		button.textContent = sub ? "Submit the corrected figures for " + CB.showDate(d.date)
			: "Submit the sitrep for " + CB.showDate(d.date);
	}

	async function submitSitrep() {
		if (!sitrepDay || !canSubmit)
			return;
		const button = CB.$("sitrep-submit");
		const status = CB.$("sitrep-status");
		button.disabled = true;
		CB.say(status, "Submitting…", "info");
		const r = await CB.api("POST", "/api/v1/reports/sitrep/" + sitrepDay + "/submit", {});
		button.disabled = false;
		if (!r.ok) {
			CB.say(status, "Not submitted: " + r.error.message, "bad");
			return;
		}
		showSitrep(r);
		CB.say(status, "Submitted the sitrep for " + CB.showDate(sitrepDay) + ".", "ok");
	}

	CB.$("sitrep-submit").addEventListener("click", submitSitrep);

	/* ---- rendering ------------------------------------------------------------------ */

	/*
	 * Set a text only when it changes: writing the same text still replaces the
	 * node and makes the browser lay the page out again, which with thousands of
	 * rows is most of a render's cost.
	 */
	function setText(id, v) {
		const e = CB.$(id);
		if (e.textContent !== v)
			e.textContent = v;
	}

	/* CB.say, only when the message changes */
	function sayOnce(id, text, kind) {
		const e = CB.$(id);
		if (e.textContent !== (text || "") || e.hidden !== !text)
			CB.say(e, text, kind);
	}
	function keyedRender(body, map, items, key, sig, build) {
		const seen = new Set();
		let prev = null;
		for (const it of items) {
			const k = key(it);
			seen.add(k);
			const s = sig(it);
			let r = map.get(k);
			if (!r) {
				r = { tr: build(it), sig: s };
				map.set(k, r);
			} else if (r.sig !== s) {
				const tr = build(it);
				r.tr.replaceWith(tr);
				r.tr = tr;
				r.sig = s;
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

	/* The DRD as a London date: the day the MDT agreed the patient no longer needs to be here. */
	function drdDate(ep) {
		let d = drdDates.get(ep.ready_at);
		if (!d) {
			d = CB.londonDate(new Date(ep.ready_at));
			drdDates.set(ep.ready_at, d);
		}
		return d;
	}

	function barrierCell(pb, extra) {
		if (!pb)
			return CB.el("td", Object.assign({ class: "no-barrier" }, extra || {}),
				CB.el("span", { class: "badge none", text: "No barrier recorded" }));
		return CB.el("td", Object.assign({ class: "barrier" }, extra || {}),
			pb.reason_label || pb.reason,
			pb.owner ? CB.el("span", { class: "note", text: " · " + pb.owner }) : null);
	}

	function wardStats(today) {
		const s = new Map();
		for (const code of wards.keys())
			s.set(code, { occupied: 0, nctr: 0, none: 0 });
		const nctr = [];
		for (const ep of episodes.values()) {
			if (!wardShown(ep.ward))
				continue;
			let x = s.get(ep.ward);
			if (!x) {
				x = { occupied: 0, nctr: 0, none: 0 };
				s.set(ep.ward, x);
			}
			x.occupied++;
			if (isNctr(ep)) {
				x.nctr++;
				if (!ep.primary_barrier)
					x.none++;
				const drd = drdDate(ep);
				nctr.push({ ep: ep, drd: drd, days: Math.max(0, CB.dayDiff(drd, today)) });
			}
		}
		return { wards: s, nctr: nctr };
	}

	function renderWards(stats) {
		const list = Array.from(wards.values()).filter(function (w) { return wardShown(w.code); })
			.sort(function (a, b) { return a.code < b.code ? -1 : 1; });
		const tot = { occupied: 0, beds: 0 };
		for (const w of list) {
			tot.occupied += stats.get(w.code).occupied;
			tot.beds += w.beds || 0;
		}
		keyedRender(CB.$("wards-body"), wardRows, list,
			function (w) { return w.code; },
			function (w) { const x = stats.get(w.code); return [w.name, w.beds, x.occupied, x.nctr, x.none].join("|"); },
			function (w) {
				const x = stats.get(w.code);
				const pct = w.beds ? Math.min(100, Math.round((100 * x.occupied) / w.beds)) : 0;
				const fill = CB.el("span");
				fill.style.width = pct + "%";
				return CB.el("tr", { "data-ward": w.code },
					CB.el("th", { scope: "row" }, w.code, w.name && w.name !== w.code ? CB.el("span", { class: "note", text: " " + w.name }) : null),
					CB.el("td", { class: "num", "data-col": "occupied" }, x.occupied + " / " + (w.beds || "?"),
						CB.el("span", { class: "bar" + (pct >= 100 ? " full" : ""), "aria-hidden": "true" }, fill)),
					CB.el("td", { class: "num", "data-col": "nctr", text: String(x.nctr) }),
					CB.el("td", { class: "num", "data-col": "no_barrier", text: String(x.none) }));
			});
		setText("k-occupied", tot.occupied + " / " + tot.beds);
	}

	function renderNctr(list) {
		list.sort(function (a, b) {
			return b.days - a.days || (a.ep.ready_at < b.ep.ready_at ? -1 : a.ep.ready_at > b.ep.ready_at ? 1 : 0) ||
				(a.ep.ward + "/" + a.ep.bed < b.ep.ward + "/" + b.ep.bed ? -1 : 1);
		});
		let none = 0;
		keyedRender(CB.$("nctr-body"), nctrRows, list,
			function (x) { return x.ep.id; },
			function (x) {
				const pb = x.ep.primary_barrier;
				/* what the row shows, not the version: an EDD change rebuilds no row */
				return [x.days, x.ep.ready_at, x.ep.ward, x.ep.bed, CB.patientName(x.ep.patient),
					pb ? pb.id + "/" + pb.version + "/" + pb.reason + "/" + (pb.owner || "") : "",
					x.ep.referral ? x.ep.referral.id + "/" + x.ep.referral.version : "",
					x.ep.expected_discharge_date, x.ep.pathway, openTasksText(x.ep.id)].join("|");
			},
			function (x) {
				const ep = x.ep;
				return CB.el("tr", { "data-id": ep.id, class: ep.primary_barrier ? null : "no-barrier" },
					CB.el("th", { scope: "row", text: CB.patientName(ep.patient) }),
					CB.el("td", { "data-col": "ward", text: ep.ward }),
					CB.el("td", { "data-col": "bed", text: ep.bed || "—" }),
					CB.el("td", { "data-col": "drd" }, CB.el("time", { datetime: ep.ready_at, text: CB.showTime(ep.ready_at) })),
					CB.el("td", { class: "num", "data-col": "days", text: String(x.days) }),
					CB.el("td", { "data-col": "edd", text: CB.showDate(ep.expected_discharge_date) }),
					CB.el("td", { "data-col": "pathway", text: ep.pathway === null || ep.pathway === undefined ? "—" : String(ep.pathway) }),
					barrierCell(ep.primary_barrier, { "data-col": "barrier" }),
					CB.el("td", { "data-col": "referral" }, CB.referralChipEl(ep.referral) || "—"),
					CB.el("td", { "data-col": "open_tasks", text: openTasksText(ep.id) }));
			});
		for (const x of list)
			if (!x.ep.primary_barrier)
				none++;
		setText("k-nctr", String(list.length));
		setText("k-nobarrier", String(none));
		sayOnce("nctr-msg", list.length === 0 ? "No patient has no criteria to reside." : "", "info");
		if (newlyNctr.length) {
			CB.$("nctr-news").textContent = newlyNctr.length === 1
				? "No criteria to reside: " + newlyNctr[0]
				: newlyNctr.length + " more patients with no criteria to reside";
			newlyNctr.length = 0;
		}
		return none;
	}

	function renderBarriers(list, none) {
		const by = new Map();
		for (const x of list) {
			const pb = x.ep.primary_barrier;
			if (!pb)
				continue;
			const k = pb.reason_list + ":" + pb.reason;
			const r = by.get(k) || { key: k, label: pb.reason_label || pb.reason, list: pb.reason_list, n: 0 };
			r.n++;
			by.set(k, r);
		}
		const rows = Array.from(by.values()).sort(function (a, b) {
			return b.n - a.n || (a.label < b.label ? -1 : 1);
		});
		rows.push({ key: "", label: "No barrier recorded", n: none });
		keyedRender(CB.$("barriers-body"), barrierRows, rows,
			function (r) { return r.key; },
			function (r) { return r.label + "|" + r.n; },
			function (r) {
				return CB.el("tr", { "data-reason": r.key, class: r.key === "" && r.n > 0 ? "no-barrier" : null },
					CB.el("th", { scope: "row" }, r.label,
						r.list && r.list !== "nhse-acute-2023" ? CB.el("span", { class: "note", text: " (" + r.list + ")" }) : null),
					CB.el("td", { class: "num", text: String(r.n) }));
			});
	}

	/*
	 * Long stays from the report, with what the stream has said since: a
	 * patient discharged leaves, a transfer, NCTR state or barrier shows at
	 * once.  The counts are those of the rows shown (the report lists every
	 * stay of 7 days or more).
	 */
	function renderLongStay() {
		if (!longStay) {
			setText("k-stranded", "–");
			setText("k-super", "–");
			return;
		}
		const list = [];
		for (const p of longStay.patients) {
			const ep = episodes.get(p.episode_id);
			if (!ep && episodesOk)
				continue; /* discharged or cancelled since */
			if (!wardShown(ep ? ep.ward : p.ward))
				continue;
			list.push({
				id: p.episode_id, los: p.length_of_stay,
				patient: ep ? ep.patient : p.patient, ward: ep ? ep.ward : p.ward, bed: ep ? ep.bed : p.bed,
				nctr: ep ? isNctr(ep) : p.nctr, barrier: ep ? ep.primary_barrier : p.primary_barrier,
			});
		}
		let n7 = 0, n14 = 0, n21 = 0;
		for (const x of list) {
			n7 += x.los >= 7 ? 1 : 0;
			n14 += x.los >= 14 ? 1 : 0;
			n21 += x.los >= 21 ? 1 : 0;
		}
		setText("ls-7", String(n7));
		setText("k-stranded", String(n7));
		setText("ls-14", String(n14));
		setText("ls-21", String(n21));
		setText("k-super", String(n21));
		keyedRender(CB.$("longstay-body"), longRows, list,
			function (x) { return x.id; },
			function (x) {
				return [x.los, x.ward, x.bed, x.nctr, x.barrier ? x.barrier.reason_list + ":" + x.barrier.reason + ":" + (x.barrier.owner || "") : "",
					CB.patientName(x.patient)].join("|");
			},
			function (x) {
				return CB.el("tr", { "data-id": x.id, class: x.los >= 21 ? "super-stranded" : null },
					CB.el("th", { scope: "row", text: CB.patientName(x.patient) }),
					CB.el("td", { text: x.ward + " · " + (x.bed || "—") }),
					CB.el("td", { class: "num", "data-col": "los" }, String(x.los),
						x.los >= 21 ? CB.el("span", { class: "badge delayed", text: " 21+" }) : null),
					CB.el("td", { "data-col": "nctr" }, x.nctr
						? CB.el("span", { class: "badge yes", text: "NCTR" })
						: CB.el("span", { class: "badge no", text: "meets criteria" })),
					x.nctr ? barrierCell(x.barrier) : CB.el("td", { text: x.barrier ? (x.barrier.reason_label || x.barrier.reason) : "—" }));
			});
	}

	let overdueSig = "";
	function renderOverdue() {
		const by = {};
		let shown = 0;
		for (const t of overdue.values()) {
			const ep = episodes.get(t.episode_id);
			if (wardFilter && !(ep && ep.ward === wardFilter))
				continue;
			shown++;
			const x = (by[t.discipline] = by[t.discipline] || { n: 0, oldest: null });
			x.n++;
			if (t.due_at && (!x.oldest || t.due_at < x.oldest))
				x.oldest = t.due_at;
		}
		const discs = ["ward", "social_work", "ot", "physio"].concat(Object.keys(by).filter(function (d) {
			return ["ward", "social_work", "ot", "physio"].indexOf(d) < 0;
		}));
		const sig = JSON.stringify(by);
		setText("k-overdue", String(shown));
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
				/* the wall display shows the count; elsewhere it opens the tasks to chase */
				CB.el("td", { class: "num" }, x.n && !wall ? CB.el("button", {
					type: "button", class: "secondary drill control", "aria-controls": "chase-panel",
					"aria-label": "Show the " + x.n + " overdue " + (names[d] || d) + " tasks to chase",
					onclick: function () { openChase(d); },
					text: String(x.n),
				}) : String(x.n)),
				CB.el("td", { text: x.oldest ? "due " + CB.showTime(x.oldest) : "—" })));
		}
	}

	function renderNow() {
		const t0 = performance.now();
		window.cbStats.renders++;
		const stats = wardStats(CB.londonDate());
		renderWards(stats.wards);
		const none = renderNctr(stats.nctr);
		renderBarriers(stats.nctr, none);
		renderLongStay();
		renderOverdue();
		renderChase();
		window.cbStats.busyMs += performance.now() - t0;
	}

	/*
	 * The overdue tasks to chase: patient, ward and bed, task and due time,
	 * oldest first; every discipline or the one whose count was chosen.
	 */
	const DISC_NAMES = { ward: "Ward nursing", social_work: "Social work", ot: "Occupational therapy", physio: "Physiotherapy" };
	let chaseSig = null;

	function renderChase() {
		if (chaseDiscipline === null) {
			chaseSig = null;
			return;
		}
		const list = [];
		for (const t of overdue.values()) {
			const ep = episodes.get(t.episode_id);
			if (!ep || !wardShown(ep.ward) || (chaseDiscipline && t.discipline !== chaseDiscipline))
				continue;
			list.push({ t: t, ep: ep });
		}
		list.sort(function (a, b) {
			return (a.t.due_at || "") < (b.t.due_at || "") ? -1 : (a.t.due_at || "") > (b.t.due_at || "") ? 1 : a.t.id < b.t.id ? -1 : 1;
		});
		const sig = chaseDiscipline + "|" + wardFilter + "|" + list.map(function (x) {
			return x.t.id + x.t.version + x.ep.version;
		}).join(",");
		if (sig === chaseSig)
			return;
		chaseSig = sig;
		setText("chase-which", chaseDiscipline ? "(" + (DISC_NAMES[chaseDiscipline] || chaseDiscipline) + ")" : "(every discipline)");
		const body = CB.$("chase-body");
		CB.clear(body);
		for (const x of list)
			body.appendChild(CB.el("tr", { "data-task": x.t.id, "data-id": x.ep.id },
				CB.el("th", { scope: "row", text: CB.patientName(x.ep.patient) }),
				CB.el("td", { "data-col": "ward", text: x.ep.ward + " · " + (x.ep.bed || "—") }),
				CB.el("td", { "data-col": "discipline", text: DISC_NAMES[x.t.discipline] || x.t.discipline }),
				CB.el("td", { "data-col": "task", text: x.t.title }),
				CB.el("td", { "data-col": "due" }, CB.showTime(x.t.due_at), " ", CB.el("span", { class: "badge delayed", text: "overdue" })),
				CB.el("td", { "data-col": "status", text: x.t.status })));
		sayOnce("chase-msg", list.length === 0 ? "No overdue task to chase." : "", "info");
	}

	function openChase(discipline) {
		chaseDiscipline = discipline || "";
		CB.$("chase-panel").hidden = false;
		renderChase();
		CB.$("chase-title").focus();
	}

	CB.$("chase-all").addEventListener("click", function () { openChase(""); });
	CB.$("chase-close").addEventListener("click", function () {
		chaseDiscipline = null;
		CB.$("chase-panel").hidden = true;
		CB.$("chase-all").focus();
	});

	/* The ward filter: every ward known, the choice kept in the address (?ward=). */
	function fillWardFilter() {
		const sel = CB.$("ward-filter");
		const codes = Array.from(wards.keys()).sort();
		if (wardFilter && codes.indexOf(wardFilter) < 0)
			codes.push(wardFilter);
		const have = Array.from(sel.options).slice(1).map(function (o) { return o.value; }).join(",");
		if (have !== codes.join(",")) {
			while (sel.options.length > 1)
				sel.remove(1);
			for (const c of codes) {
				const w = wards.get(c);
				sel.appendChild(CB.el("option", { value: c, text: w && w.name && w.name !== c ? c + " — " + w.name : c }));
			}
		}
		sel.value = wardFilter;
		const link = new URLSearchParams({ wall: "1" });
		if (wardFilter)
			link.set("ward", wardFilter);
		CB.$("wall-link").href = "/dashboard?" + link.toString();
		const title = CB.$("wall-title");
		title.hidden = !wall;
		title.textContent = wardFilter ? "Ward " + wardFilter : "All wards";
	}

	CB.$("ward-filter").addEventListener("change", function (ev) {
		wardFilter = ev.target.value;
		const q = new URLSearchParams(location.search);
		if (wardFilter)
			q.set("ward", wardFilter);
		else
			q.delete("ward");
		history.replaceState(null, "", "/dashboard" + (q.toString() ? "?" + q.toString() : ""));
		fillWardFilter();
		render();
		reports.load(["discharges"]);
	});

	const render = CB.throttle(renderNow, 250);

	/* ---- start ---------------------------------------------------------------------- */
	new CB.Live(STREAM_TYPES, "", onEvent, load);
	await load();
	/* day counts move at midnight; the reports' figures with time (lengths of stay, yesterday) */
	setInterval(function () {
		render();
		/* after midnight the panel counts the new day */
		if (dischargesDay !== null && dischargesDay !== CB.londonDate())
			reports.load(["discharges"]);
	}, 60000);
	setInterval(function () { reports.load(["longStay", "sitrep", "drd", "discharges"]); }, 10 * 60000);
})();
