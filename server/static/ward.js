/*
 * ward.js - the ward board.  A nurse sees her ward's admitted patients, flags
 * admissions, sets readiness, expected date and likely pathway, records a
 * discharge with the pathway actually taken, moves ward tasks on, and runs the
 * board round (criteria-to-reside reviews and barriers, patient by patient in
 * bed order), moves a patient to another bed, transfers one to another ward and
 * undoes a discharge made in error (each after a confirmation naming the
 * patient and bed); OT and physio see every ward read-only with their own
 * discipline's tasks, which they can move on.  Each row shows the NCTR state,
 * the primary barrier and the "not reviewed since the last round" marker.
 * Live from /api/v1/stream.
 */
"use strict";

(async function () {
	/*
	 * Every episode event (a patient arrives, changes, is transferred in or
	 * out, leaves by discharge or HL7 A11 cancelling, or comes back by A13
	 * reopening), every task and referral event (the chips), the delays
	 * (the "delayed" badge), reviews (the last review; the episode event that
	 * comes with each clears the "not reviewed" marker; review.overdue sets
	 * it) and barriers (the primary barrier, which changes no episode
	 * version).  Chases are not shown on the board.
	 */
	const STREAM_TYPES = [
		"episode.admitted", "episode.updated", "episode.ready", "episode.ready_withdrawn",
		"episode.transferred",
		"episode.discharged", "episode.cancelled", "episode.reopened",
		"task.created", "task.updated", "task.overdue",
		"referral.created", "referral.updated",
		"delay.opened", "delay.updated", "delay.closed",
		"review.recorded", "review.overdue", "barrier.opened", "barrier.updated", "barrier.closed",
		"involvement.recorded",
	];
	const me = await CB.requireUser(["nurse", "ot", "physio"]);
	const nurse = me.role === "nurse";
	const myDisc = me.discipline || (nurse ? "ward" : me.role);
	const TASK_STATUSES = ["requested", "accepted", "in-progress", "on-hold", "completed", "cancelled"];
	const ADMIT_FIELDS = ["nhs_number", "family_name", "given_name", "birth_date", "sex", "bed", "admitted_at", "expected_discharge_date", "pathway"];

	const episodes = new Map(); /* id -> episode summary */
	const tasks = new Map();    /* episode id -> Map(task id -> task) */
	const rows = new Map();     /* episode id -> {tr, sig} */
	let ward = nurse ? me.wards[0] || "" : "";
	let editing = null;         /* the episode id in the dialog (script state, never the URL) */
	let discharging = null;     /* the episode id in the discharge dialog */
	let moving = null;          /* the bed move dialog: {id, version, bed, name} as it was opened */
	let transferring = null;    /* the transfer dialog: {id, version, bed, ward, name} */
	let reopening = null;       /* the undo dialog: {ep, back} (back: the element to focus after) */
	let recent = null;          /* today's discharges from the ward: Map(id -> episode), null until read */
	let refocus = null;         /* {id, cls}: the row button to focus once its row is rebuilt */
	let round = null;           /* the board round: {ids, i, reviewed, skipped} */
	let live = null;
	let loading = false;
	let buffered = [];

	const body = CB.$("board-body");
	const msg = CB.$("board-msg");

	/* ---- state ---------------------------------------------------------------------- */
	function inScope(ep) {
		return ep && ep.state === "admitted" && (!ward || ep.ward === ward);
	}

	function putEpisode(ep) {
		const old = episodes.get(ep.id);
		if (old && old.version > ep.version)
			return;
		if (!inScope(ep)) {
			episodes.delete(ep.id);
			tasks.delete(ep.id);
			return;
		}
		episodes.set(ep.id, Object.assign({}, old || {}, ep));
	}

	function putTask(t) {
		if (!nurse && t.discipline !== myDisc)
			return;
		let m = tasks.get(t.episode_id);
		if (!m) {
			m = new Map();
			tasks.set(t.episode_id, m);
		}
		const old = m.get(t.id);
		if (!old || old.version <= t.version)
			m.set(t.id, t);
	}

	function onEvent(type, p) {
		if (loading) {
			buffered.push([type, p]);
			return;
		}
		apply(type, p);
		render();
	}

	function apply(type, p) {
		if (type === "episode.discharged" || type === "episode.reopened" || type === "episode.cancelled")
			noteRecent(p);
		if (type.indexOf("episode.") === 0) {
			if (type === "episode.transferred" && p.from_ward && p.from_ward !== p.ward && ward && p.from_ward === ward) {
				episodes.delete(p.id);
				tasks.delete(p.id);
				return;
			}
			const known = episodes.has(p.id);
			putEpisode(p);
			/*
			 * A patient reopened (HL7 A13) or transferred in brings no task
			 * events: the tasks were created before, elsewhere or while
			 * the patient was off the board.
			 */
			if (!known && episodes.has(p.id) && (type === "episode.reopened" || type === "episode.transferred"))
				loadEpisodeTasks(p.id);
		} else if (type.indexOf("task.") === 0) {
			if (episodes.has(p.episode_id))
				putTask(p);
		} else if (type.indexOf("referral.") === 0) {
			const ep = p.referral && episodes.get(p.referral.episode_id);
			if (ep)
				ep.referral = CB.referralNewer(ep.referral, p.referral);
		} else if (type.indexOf("delay.") === 0) {
			const ep = episodes.get(p.episode_id);
			if (ep)
				ep.delay = p;
		} else if (type === "review.overdue") {
			/* flagged "not reviewed" by the chaser: the episode summary, at the same version */
			if (episodes.has(p.id))
				putEpisode(p);
		} else if (type === "review.recorded") {
			/* its episode event follows, with the flag cleared */
			const ep = episodes.get(p.episode_id);
			if (ep && p.decided_at && (!ep.last_review_at || Date.parse(ep.last_review_at) < Date.parse(p.decided_at)))
				ep.last_review_at = p.decided_at;
			if (round && roundId() === p.episode_id)
				roundReviewSeen(p);
		} else if (type.indexOf("barrier.") === 0) {
			putBarrier(p);
		} else if (type === "involvement.recorded") {
			putInvolvement(p);
		}
		if (editing && type.indexOf("task.") === 0 && p.episode_id === editing)
			renderEditTasks();
		if (round && (type.indexOf("episode.") === 0 || type === "review.overdue") && p.id === roundId())
			renderRoundFacts();
	}

	/*
	 * A barrier event: the row's primary barrier follows it (the episode
	 * summary's primary_barrier, migration 0025, is the same object); the
	 * board round's list, when it shows this patient, too.
	 */
	function putBarrier(b) {
		const ep = episodes.get(b.episode_id);
		if (!ep)
			return;
		const cur = ep.primary_barrier;
		if (cur && cur.id === b.id && typeof cur.version === "number" && cur.version > b.version)
			return;
		if (b.open && b.primary) {
			ep.primary_barrier = {
				id: b.id, reason_list: b.reason_list, reason: b.reason, reason_label: b.reason_label,
				owner: b.owner, opened_at: b.opened_at, version: b.version,
			};
		} else if (cur && cur.id === b.id) {
			ep.primary_barrier = null;
		}
		if (round && roundId() === b.episode_id && roundBarriers) {
			const i = roundBarriers.findIndex(function (x) { return x.id === b.id; });
			if (i < 0)
				roundBarriers.push(b);
			else if (roundBarriers[i].version <= b.version)
				roundBarriers[i] = b;
			renderBarriers();
		}
	}

	/* The open tasks of one episode that has come (back) onto the board. */
	async function loadEpisodeTasks(id) {
		const q = "episode=" + encodeURIComponent(id) + "&status=open" + (nurse ? "" : "&discipline=" + encodeURIComponent(myDisc));
		const r = await CB.apiAll("/api/v1/tasks?" + q);
		if (!r.ok || !episodes.has(id))
			return;
		for (const t of r.data.items)
			putTask(t);
		render();
	}

	/* Tasks of the shown episodes: one bulk call when the server has it, else one per episode. */
	async function loadTasks(ids) {
		const q = (ward ? "ward=" + encodeURIComponent(ward) : "") + (nurse ? "" : (ward ? "&" : "") + "discipline=" + encodeURIComponent(myDisc));
		const bulk = await CB.apiAll("/api/v1/tasks?" + q + "&status=open");
		if (bulk.ok) {
			for (const t of bulk.data.items)
				if (episodes.has(t.episode_id))
					putTask(t);
			return;
		}
		await CB.pool(ids, 6, async function (id) {
			const r = await CB.api("GET", "/api/v1/episodes/" + id + "/tasks");
			if (r.ok)
				for (const t of r.data.items || [])
					putTask(t);
		});
	}

	async function load() {
		loading = true;
		buffered = [];
		CB.say(msg, "Loading…", "info");
		const q = ward ? "?ward=" + encodeURIComponent(ward) : "";
		const r = await CB.apiAll("/api/v1/episodes" + q);
		if (!r.ok) {
			loading = false;
			CB.say(msg, "Could not load the patients: " + r.error.message, "bad");
			return;
		}
		episodes.clear();
		tasks.clear();
		for (const ep of r.data.items)
			putEpisode(ep);
		await loadTasks(Array.from(episodes.keys()));
		loading = false;
		for (const [type, p] of buffered)
			apply(type, p);
		buffered = [];
		CB.say(msg, episodes.size === 0 ? "No admitted patients." : "", "info");
		for (const v of rows.values())
			v.tr.remove();
		rows.clear();
		render();
		if (recent !== null)
			loadRecent(); /* events may have been missed (a reset): read it again */
	}

	/* ---- rendering: one keyed row per episode, rebuilt only when it changed ------------ */

	/* The moves a task's owner makes next, in the order they usually come (lib/task.c allows them). */
	const TASK_NEXT = {
		requested: [["accepted", "Accept"], ["in-progress", "Start"], ["completed", "Complete"], ["on-hold", "Put on hold"], ["cancelled", "Cancel the task"]],
		accepted: [["in-progress", "Start"], ["completed", "Complete"], ["on-hold", "Put on hold"], ["cancelled", "Cancel the task"]],
		"in-progress": [["completed", "Complete"], ["on-hold", "Put on hold"], ["cancelled", "Cancel the task"]],
		"on-hold": [["in-progress", "Resume"], ["accepted", "Back to accepted"], ["cancelled", "Cancel the task"]],
	};

	/* "due 14:00" today, "due 4 Dec, 14:00" another day */
	const dueTodayFmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" });

	function dueText(iso) {
		if (!iso)
			return "";
		const d = new Date(iso);
		return "due " + (CB.londonDate(d) === CB.londonDate() ? dueTodayFmt.format(d) : CB.showTime(iso));
	}

	/*
	 * The social-work task that stands for the Care Act assessment, which is
	 * now the referral to the hub (issue 15): the board shows the referral's
	 * chip for it (the queue's words), so the two never say different things
	 * beside each other.
	 */
	function isReferralTask(ep, t) {
		return t.discipline === "social_work" && !!ep.referral && /care act/i.test(t.title);
	}

	let chipMenu = null; /* the open status menu: {el, chip, task} */

	function closeChipMenu(refocusChip) {
		if (!chipMenu)
			return;
		const m = chipMenu;
		chipMenu = null;
		m.el.remove();
		m.chip.setAttribute("aria-expanded", "false");
		if (refocusChip && m.chip.isConnected)
			m.chip.focus();
	}

	/* Move a task on: one PATCH with the version shown.  Errors are said in words on the board. */
	async function moveTask(t, to) {
		const r = await CB.api("PATCH", "/api/v1/tasks/" + t.id, { status: to }, { "If-Match": '"' + t.version + '"' });
		if (!r.ok) {
			CB.sayFailed(msg, "Could not change “" + t.title + "”", r.status === 412
				? { message: "someone else changed it first; the board shows it as it is now" } : r.error,
				function () { moveTask(t, to); });
			if (r.status === 412)
				loadEpisodeTasks(t.episode_id);
			return;
		}
		CB.say(msg, "“" + t.title + "”: " + CB.taskLabel(to) + ".", "ok");
		refocus = { id: t.episode_id, cls: ".chip[data-task='" + t.id + "']" };
		putTask(r.data);
		render();
	}

	/* A chip of one's own discipline opens a menu of its next moves: two clicks or keys in all. */
	function openChipMenu(chip, t) {
		const again = chipMenu && chipMenu.chip === chip;
		closeChipMenu(false);
		if (again)
			return;
		const menu = CB.el("div", { class: "chip-menu", role: "menu", "aria-label": "Move on " + t.title });
		for (const [to, label] of TASK_NEXT[t.status] || []) {
			menu.appendChild(CB.el("button", {
				type: "button", role: "menuitem", class: "secondary", "data-to": to, text: label,
				onclick: function () { closeChipMenu(true); moveTask(t, to); },
			}));
		}
		menu.addEventListener("keydown", function (ev) {
			const items = Array.from(menu.querySelectorAll("button"));
			const i = items.indexOf(document.activeElement);
			if (ev.key === "Escape") {
				ev.preventDefault();
				closeChipMenu(true);
			} else if (ev.key === "ArrowDown" || ev.key === "ArrowRight") {
				ev.preventDefault();
				items[(i + 1) % items.length].focus();
			} else if (ev.key === "ArrowUp" || ev.key === "ArrowLeft") {
				ev.preventDefault();
				items[(i - 1 + items.length) % items.length].focus();
			} else if (ev.key === "Tab") {
				closeChipMenu(false);
			}
		});
		chip.after(menu);
		chip.setAttribute("aria-expanded", "true");
		chipMenu = { el: menu, chip: chip, task: t };
		const first = menu.querySelector("button");
		if (first)
			first.focus();
	}

	document.addEventListener("click", function (ev) {
		if (chipMenu && !chipMenu.el.contains(ev.target) && ev.target !== chipMenu.chip)
			closeChipMenu(false);
	});

	function taskChips(ep) {
		const groups = {};
		const m = tasks.get(ep.id);
		for (const t of m ? m.values() : []) {
			if (isReferralTask(ep, t))
				continue;
			(groups[t.discipline] = groups[t.discipline] || []).push(t);
		}
		const wrap = CB.el("div", { class: "chips" });
		for (const d of ["ward", "social_work", "ot", "physio"]) {
			const list = groups[d];
			const extra = d === "social_work" && ep.referral && (nurse || myDisc === "social_work");
			if (!list && !extra)
				continue;
			const g = CB.el("span", { class: "chip-group" }, CB.el("span", { class: "disc", text: CB.DISCIPLINES[d] || d }));
			if (extra) {
				/* the referral to the hub, in the queue's and the dashboard's words */
				const r = ep.referral;
				g.appendChild(CB.referralChipEl(r, "Referral to " + (r.organisation ? r.organisation.name : "no hub set") +
					(r.held_by_name ? " — " + r.held_by_name : "")));
			}
			for (const t of list || []) {
				const mine = t.discipline === myDisc && !!TASK_NEXT[t.status];
				const due = dueText(t.due_at);
				const words = t.title + " · " + CB.taskLabel(t.status) + (due ? " · " + due : "");
				const attrs = {
					class: "chip st-" + t.status + (t.overdue ? " overdue" : "") + (mine ? " chip-button" : ""),
					"data-task": t.id,
					"data-status": t.status,
					text: words,
				};
				if (mine) {
					attrs.type = "button";
					attrs["aria-haspopup"] = "menu";
					attrs["aria-expanded"] = "false";
					attrs["aria-label"] = words + (t.overdue ? ", overdue" : "") + ": move on";
					attrs.onclick = function (ev) { openChipMenu(ev.currentTarget, t); };
				}
				g.appendChild(CB.el(mine ? "button" : "span", attrs,
					t.overdue && !mine ? CB.el("span", { class: "visually-hidden", text: " overdue" }) : null));
			}
			wrap.appendChild(g);
		}
		return wrap;
	}

	function rowSig(ep) {
		const m = tasks.get(ep.id);
		const pb = ep.primary_barrier;
		let s = ep.version + "|" + ep.bed + "|" + (ep.referral ? ep.referral.id + ep.referral.version : "") + "|" + (ep.delay ? ep.delay.version : "") +
			"|" + (pb ? pb.id + pb.version + pb.reason + pb.owner : "") + "|" + !!ep.review_overdue + "|" + (ep.last_review_at || "");
		for (const t of m ? m.values() : [])
			s += "|" + t.id + t.version + t.overdue;
		return s + "|" + CB.londonDate();
	}

	/* "NCTR since 3 Mar, 10:15" or "Not NCTR": the discharge ready date is the episode's ready_at */
	function nctrText(ep) {
		return ep.ready ? "NCTR since " + CB.showTime(ep.ready_at) : "Not NCTR";
	}

	function nctrBadge(ep) {
		return CB.el("span", {
			class: "badge " + (ep.ready ? "nctr" : "no"), "data-ready": ep.ready ? "yes" : "no",
			"data-nctr": ep.ready ? "yes" : "no", text: nctrText(ep),
		});
	}

	function barrierText(b) {
		return (b.reason_label || b.reason) + (b.owner ? " · " + b.owner : "");
	}

	function reviewMarker(ep) {
		if (!ep.review_overdue)
			return null;
		return CB.el("span", {
			class: "badge review-due", "data-review": "overdue",
			title: ep.last_review_at ? "Last reviewed " + CB.showTime(ep.last_review_at) : "Never reviewed",
			text: "Not reviewed since the last round",
		});
	}

	function buildRow(ep) {
		const p = ep.patient || {};
		const days = CB.daysSince(ep.admitted_at);
		const delayed = ep.delay && !ep.delay.closed_at;
		const pb = ep.primary_barrier;
		const marker = reviewMarker(ep);
		const tr = CB.el("tr", { "data-id": ep.id },
			CB.el("td", { text: ep.bed || "—" }),
			CB.el("th", { scope: "row" }, CB.patientName(p), nurse ? null : CB.el("span", { class: "note", text: " · " + ep.ward }),
				marker ? " " : null, marker),
			CB.el("td", { class: "num", text: String(days) }),
			CB.el("td", { text: CB.showDate(ep.expected_discharge_date) }),
			CB.el("td", { "data-col": "nctr" },
				nctrBadge(ep),
				delayed ? CB.el("span", { class: "badge delayed", text: " delayed " + CB.delayDays(ep.delay) + "d" }) : null,
				pb ? CB.el("span", { class: "barrier", "data-barrier": pb.id },
					CB.el("span", { class: "disc", text: "Barrier: " }), barrierText(pb)) : null),
			CB.el("td", { text: ep.pathway === null || ep.pathway === undefined ? "—" : String(ep.pathway) }),
			CB.el("td", {}, taskChips(ep)),
			CB.el("td", {}, CB.el("div", { class: "row-actions" }, CB.el("button", {
				type: "button", class: "secondary",
				"aria-label": "Update " + CB.patientName(p) + ", bed " + (ep.bed || "none"),
				onclick: function () { openEdit(ep.id); },
				text: "Update",
			}), nurse ? " " : null, nurse ? CB.el("button", {
				type: "button", class: "secondary move-bed",
				"aria-label": "Move " + spokenName(p) + " from " + bedText(ep.bed) + " to another bed",
				onclick: function () { openMove(ep.id); },
				text: "Move bed",
			}) : null, nurse ? " " : null, nurse ? CB.el("button", {
				type: "button", class: "secondary transfer",
				"aria-label": "Transfer " + spokenName(p) + ", " + bedText(ep.bed) + ", to another ward",
				onclick: function () { openTransfer(ep.id); },
				text: "Transfer",
			}) : null, nurse ? " " : null, nurse ? CB.el("button", {
				type: "button", class: "secondary discharge",
				"aria-label": "Discharge " + CB.patientName(p) + ", bed " + (ep.bed || "none"),
				onclick: function () { openDischarge(ep.id); },
				text: "Discharge",
			}) : null)));
		return tr;
	}

	/* Bed order: by ward, then beds in natural order ("2" before "10", "B2" before "B10"), no bed last. */
	const bedCollator = new Intl.Collator("en-GB", { numeric: true, sensitivity: "base" });

	function bedOrder(a, b) {
		if (a.ward !== b.ward)
			return a.ward < b.ward ? -1 : 1;
		const x = a.bed || "", y = b.bed || "";
		if (!x !== !y)
			return x ? -1 : 1;
		const c = bedCollator.compare(x, y);
		if (c !== 0)
			return c;
		return a.admitted_at < b.admitted_at ? -1 : a.admitted_at > b.admitted_at ? 1 : a.id < b.id ? -1 : 1;
	}

	function render() {
		const list = Array.from(episodes.values()).sort(bedOrder);
		const seen = new Set();
		let prev = null;
		for (const ep of list) {
			seen.add(ep.id);
			const sig = rowSig(ep);
			let r = rows.get(ep.id);
			if (!r || r.sig !== sig) {
				const tr = buildRow(ep);
				if (r)
					r.tr.replaceWith(tr);
				r = { tr: tr, sig: sig };
				rows.set(ep.id, r);
			}
			const want = prev ? prev.nextSibling : body.firstChild;
			if (want !== r.tr)
				body.insertBefore(r.tr, want);
			prev = r.tr;
		}
		for (const [id, r] of rows) {
			if (!seen.has(id)) {
				r.tr.remove();
				rows.delete(id);
			}
		}
		if (!loading)
			CB.say(msg, list.length === 0 ? "No admitted patients." : "", "info");
		if (refocus) {
			/* a dialog closed on a row that was rebuilt since: its new button takes the focus */
			const r = rows.get(refocus.id);
			const want = r && r.tr.querySelector(refocus.cls.indexOf("[") >= 0 ? refocus.cls : "button." + refocus.cls);
			const a = document.activeElement;
			if (want && (!a || a === document.body || !a.isConnected))
				want.focus();
			refocus = null;
		}
	}

	/* ---- update dialog -------------------------------------------------------------- */
	const dlg = CB.$("edit");

	function clearErrors(prefix) {
		for (const e of document.querySelectorAll("[id^='" + prefix + "']"))
			e.textContent = "";
		for (const e of document.querySelectorAll("[aria-invalid='true']"))
			e.removeAttribute("aria-invalid");
	}

	/*
	 * The patient dialog saves everything it shows with one button: the
	 * expected date, pathway and NCTR (nurses), and each task's status
	 * (one's own discipline's).  Closing it with changes not saved asks
	 * first.  editShown: what the dialog showed when opened (or last
	 * saved), to tell what changed; editChoices: task id -> status chosen,
	 * kept across re-renders while task events arrive.
	 */
	let editShown = null;
	let editChoices = new Map();

	function pathwayValue(ep) {
		return ep.pathway === null || ep.pathway === undefined ? "" : String(ep.pathway);
	}

	function fillEdit(ep) {
		CB.$("x-expected_discharge_date").value = ep.expected_discharge_date || "";
		CB.$("x-pathway").value = pathwayValue(ep);
		CB.$("x-ready").checked = !!ep.ready;
		editShown = { edd: ep.expected_discharge_date || "", pathway: pathwayValue(ep), ready: !!ep.ready };
	}

	function openEdit(id) {
		const ep = episodes.get(id);
		if (!ep)
			return;
		editing = id;
		editChoices = new Map();
		clearErrors("xe-");
		CB.$("edit-error").textContent = "";
		CB.$("edit-unsaved").hidden = true;
		CB.$("edit-title").textContent = "Update " + CB.patientName(ep.patient) + " — bed " + (ep.bed || "none");
		fillEdit(ep);
		for (const id2 of ["x-expected_discharge_date", "x-pathway", "x-ready"])
			CB.$(id2).disabled = !nurse;
		renderEditTasks();
		openInvolvement(ep);
		dlg.showModal();
	}

	/* What the nurse changed in the dialog: {episode: PATCH body, tasks: [[task, status]]}. */
	function editChanges() {
		const ep = episodes.get(editing);
		const out = { episode: {}, tasks: [] };
		if (!ep || !editShown)
			return out;
		if (nurse) {
			const edd = CB.$("x-expected_discharge_date").value;
			if (edd !== editShown.edd)
				out.episode.expected_discharge_date = edd || null;
			const pw = CB.$("x-pathway").value;
			if (pw !== editShown.pathway)
				out.episode.pathway = pw === "" ? null : Number(pw);
			const ready = CB.$("x-ready").checked;
			if (ready !== editShown.ready)
				out.episode.ready_at = ready ? CB.isoNow() : null;
		}
		const m = tasks.get(editing);
		for (const [tid, to] of editChoices) {
			const t = m && m.get(tid);
			if (t && to !== t.status)
				out.tasks.push([t, to]);
		}
		return out;
	}

	function editDirty() {
		const c = editChanges();
		return Object.keys(c.episode).length > 0 || c.tasks.length > 0;
	}

	/* Close, unless there are changes not saved: then say so and offer to save or discard. */
	function askClose() {
		if (!editDirty()) {
			dlg.close();
			return;
		}
		const n = editChanges();
		const what = [];
		if (Object.keys(n.episode).length)
			what.push("the patient's details");
		if (n.tasks.length)
			what.push(n.tasks.length === 1 ? "a task's status" : n.tasks.length + " tasks' statuses");
		CB.$("edit-unsaved-text").textContent = "You changed " + what.join(" and ") + " but did not save. Save, or discard the changes?";
		CB.$("edit-unsaved").hidden = false;
		CB.$("edit-save").focus();
	}

	CB.$("edit-close").addEventListener("click", askClose);
	dlg.addEventListener("cancel", function (ev) {
		/* Escape: the same question as Close */
		if (editDirty()) {
			ev.preventDefault();
			askClose();
		}
	});
	CB.$("edit-discard").addEventListener("click", function () {
		editChoices = new Map();
		editShown = null;
		dlg.close();
	});
	CB.$("edit-keep").addEventListener("click", function () {
		CB.$("edit-unsaved").hidden = true;
		CB.$("edit-save").focus();
	});
	/* leaving the page with the dialog changed asks too */
	window.addEventListener("beforeunload", function (ev) {
		if (editing && dlg.open && editDirty()) {
			ev.preventDefault();
			ev.returnValue = "";
		}
	});
	dlg.addEventListener("close", function () {
		const id = editing;
		editing = null;
		editShown = null;
		editChoices = new Map();
		CB.$("edit-unsaved").hidden = true;
		const r = id && rows.get(id);
		if (r)
			r.tr.querySelector("button").focus();
	});

	CB.$("edit-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const id = editing;
		const ep = episodes.get(id);
		if (!ep)
			return;
		clearErrors("xe-");
		CB.$("edit-error").textContent = "";
		CB.$("edit-unsaved").hidden = true;
		const change = editChanges();
		if (Object.keys(change.episode).length === 0 && change.tasks.length === 0) {
			dlg.close();
			return;
		}
		const button = CB.$("edit-save");
		button.disabled = true;
		const failed = [];
		if (Object.keys(change.episode).length) {
			const r = await CB.api("PATCH", "/api/v1/episodes/" + ep.id, change.episode, { "If-Match": '"' + ep.version + '"' });
			if (!r.ok) {
				const f = r.error.field && CB.$("xe-" + r.error.field);
				if (f && r.error.code !== "network") {
					f.textContent = CB.sentence(CB.plain(r.error));
					const input = CB.$("x-" + (r.error.field === "ready_at" ? "ready" : r.error.field));
					if (input) {
						input.setAttribute("aria-invalid", "true");
						input.focus();
					}
				}
				failed.push(["the patient's details", r]);
			} else {
				putEpisode(r.data);
				if (editing === id)
					fillEdit(episodes.get(id) || r.data);
			}
		}
		for (const [t, to] of change.tasks) {
			const r = await CB.api("PATCH", "/api/v1/tasks/" + t.id, { status: to }, { "If-Match": '"' + t.version + '"' });
			if (!r.ok) {
				failed.push(["“" + t.title + "”", r]);
			} else {
				putTask(r.data);
				editChoices.delete(t.id);
			}
		}
		button.disabled = false;
		render();
		if (editing !== id)
			return;
		if (failed.length === 0) {
			dlg.close();
			return;
		}
		renderEditTasks();
		const box = CB.$("edit-error");
		const offline = failed.some(function (f) { return f[1].error.code === "network"; });
		if (offline) {
			CB.sayFailed(box, "", { code: "network" }, function () { CB.$("edit-form").requestSubmit(); });
			box.className = "form-error";
		} else {
			box.textContent = failed.map(function (f) {
				return "Could not save " + f[0] + ": " + (f[1].status === 412
					? "someone else changed it first; check what the board shows now"
					: CB.plain(f[1].error)) + ".";
			}).join(" ");
		}
	});

	/* ---- involvement of the patient, family or carer (issue 15) --------------------------- */
	const WHO_LABELS = { patient: "The patient", family: "Family", unpaid_carer: "Unpaid carer", advocate: "Advocate" };
	let involvements = null; /* the shown patient's records, latest first; null until read */
	const seenInvolvements = new Set(); /* record ids already in their episode's summary */

	function involvementSummary(ep) {
		const inv = ep && ep.involvement;
		if (!inv || !inv.latest)
			return "No involvement recorded yet.";
		const l = inv.latest;
		return inv.count + (inv.count === 1 ? " conversation" : " conversations") + " recorded; latest " +
			(WHO_LABELS[l.who] || l.who) + ", " + CB.showTime(l.discussed_at) + ", " +
			(l.agreed ? "agreed with the plan" : "did not agree with the plan") + ".";
	}

	function renderInvolvement() {
		const ep = episodes.get(editing);
		CB.$("inv-summary").textContent = involvementSummary(ep);
		const list = CB.$("inv-list");
		list.textContent = "";
		for (const i of involvements || []) {
			list.appendChild(CB.el("li", { "data-id": i.id },
				(WHO_LABELS[i.who] || i.who) + (i.name ? " (" + i.name + ")" : "") + " · " +
				CB.showTime(i.discussed_at) + " · " + (i.agreed ? "agreed" : "did not agree") +
				(i.note ? " · " + i.note : "") + " · recorded by " + i.recorded_by));
		}
	}

	async function loadInvolvements(id) {
		const r = await CB.api("GET", "/api/v1/episodes/" + id + "/involvements");
		if (editing !== id)
			return;
		involvements = r.ok ? r.data.items : [];
		for (const i of involvements)
			seenInvolvements.add(i.id);
		if (!r.ok)
			CB.$("inv-error").textContent = r.error.message;
		renderInvolvement();
	}

	function openInvolvement(ep) {
		involvements = null;
		clearErrors("ie-");
		CB.$("inv-error").textContent = "";
		CB.$("inv-form").reset();
		renderInvolvement();
		loadInvolvements(ep.id);
	}

	/* a record, from this dialog or the stream: the summary and the open list follow it */
	function putInvolvement(i) {
		const ep = episodes.get(i.episode_id);
		if (ep) {
			const inv = ep.involvement || { count: 0, latest: null };
			if (!seenInvolvements.has(i.id)) {
				seenInvolvements.add(i.id);
				inv.count++;
				if (!inv.latest || Date.parse(inv.latest.discussed_at) <= Date.parse(i.discussed_at))
					inv.latest = { who: i.who, discussed_at: i.discussed_at, agreed: i.agreed };
			}
			ep.involvement = inv;
		}
		if (editing === i.episode_id && involvements) {
			if (!involvements.some(function (x) { return x.id === i.id; })) {
				/* newest first: a record that just arrived goes before one of the same time
				   (times are to the second; the stable sort keeps it there) */
				involvements.unshift(i);
				involvements.sort(function (a, b) {
					return Date.parse(b.discussed_at) - Date.parse(a.discussed_at) ||
					       Date.parse(b.recorded_at) - Date.parse(a.recorded_at);
				});
			}
			renderInvolvement();
		}
	}

	CB.$("inv-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const ep = episodes.get(editing);
		if (!ep)
			return;
		clearErrors("ie-");
		CB.$("inv-error").textContent = "";
		const fail = function (field, text) {
			const e = CB.$("ie-" + field), input = CB.$("i-" + field);
			if (!e)
				return false;
			e.textContent = text;
			if (input) {
				input.setAttribute("aria-invalid", "true");
				input.focus();
			}
			return true;
		};
		const who = CB.$("i-who").value, agreed = CB.$("i-agreed").value;
		if (who === "")
			return fail("who", "Choose who took part.");
		if (agreed === "")
			return fail("agreed", "Say whether they agreed with the plan.");
		const body = { who: who, agreed: agreed === "true" };
		const name = CB.$("i-name").value.trim(), note = CB.$("i-note").value.trim();
		const when = CB.$("i-discussed_at").value;
		if (name)
			body.name = name;
		if (note)
			body.note = note;
		if (when)
			body.discussed_at = CB.isoNow(new Date(when));
		const button = CB.$("inv-save");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/episodes/" + ep.id + "/involvements", body);
		button.disabled = false;
		if (!r.ok) {
			if (!(r.error.field && fail(r.error.field, r.error.message)))
				CB.$("inv-error").textContent = r.error.message;
			return;
		}
		putInvolvement(r.data);
		CB.$("inv-form").reset();
		CB.$("i-who").focus();
	});

	/* ---- discharge dialog: the pathway actually taken is asked every time -------------- */
	const ddlg = CB.$("discharge");

	function pathwayLabel(n) {
		const o = CB.$("d-pathway").querySelector("option[value='" + n + "']");
		return o ? o.textContent : String(n);
	}

	function openDischarge(id) {
		const ep = episodes.get(id);
		if (!ep || !nurse)
			return;
		discharging = id;
		clearErrors("de-");
		CB.$("discharge-error").textContent = "";
		CB.$("discharge-title").textContent = "Discharge " + CB.patientName(ep.patient) + " — bed " + (ep.bed || "none");
		/* never preset from the likely pathway: the actual one is decided now */
		CB.$("d-pathway").value = "";
		CB.$("dh-pathway").textContent = ep.pathway === null || ep.pathway === undefined
			? "No likely pathway was planned."
			: "Planned at admission: " + pathwayLabel(ep.pathway) + ".";
		CB.$("d-discharged_at").value = localNow();
		CB.$("d-destination").value = "";
		CB.$("d-destination_note").value = "";
		ddlg.showModal();
		CB.$("d-pathway").focus();
	}

	function dischargeError(field, text) {
		const e = CB.$("de-" + field);
		const input = CB.$("d-" + field);
		if (!e)
			return false;
		e.textContent = text;
		if (input) {
			input.setAttribute("aria-invalid", "true");
			input.focus();
		}
		return true;
	}

	/* a pathway marked missing is cleared as soon as one is chosen */
	CB.$("d-pathway").addEventListener("change", function () {
		if (CB.$("d-pathway").value !== "") {
			CB.$("de-pathway").textContent = "";
			CB.$("d-pathway").removeAttribute("aria-invalid");
		}
	});
	CB.$("d-destination").addEventListener("change", function () {
		if (CB.$("d-destination").value !== "") {
			CB.$("de-destination").textContent = "";
			CB.$("d-destination").removeAttribute("aria-invalid");
		}
	});
	CB.$("discharge-close").addEventListener("click", function () { ddlg.close(); });
	ddlg.addEventListener("close", function () {
		const id = discharging;
		discharging = null;
		const r = id && rows.get(id);
		if (r)
			r.tr.querySelector("button.discharge").focus();
		else
			CB.$("board-title").focus();
	});

	CB.$("discharge-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const ep = episodes.get(discharging);
		if (!ep || !nurse)
			return;
		clearErrors("de-");
		CB.$("discharge-error").textContent = "";
		const pw = CB.$("d-pathway").value;
		const left = CB.$("d-discharged_at").value;
		if (pw === "")
			return dischargeError("pathway", "Choose the pathway the patient is leaving on.");
		if (!left)
			return dischargeError("discharged_at", "Enter when the patient left.");
		const dest = CB.$("d-destination").value;
		if (dest === "")
			return dischargeError("destination", "Choose where the patient is going.");
		const body = { pathway: Number(pw), discharged_at: CB.isoNow(new Date(left)), destination: dest };
		const note = CB.$("d-destination_note").value.trim();
		if (note)
			body.destination_note = note;
		const button = CB.$("discharge-save");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/episodes/" + ep.id + "/discharge", body, { "If-Match": '"' + ep.version + '"' });
		button.disabled = false;
		if (!r.ok) {
			if (!(r.error.field && dischargeError(r.error.field, r.error.message)))
				CB.$("discharge-error").textContent = r.error.message;
			return;
		}
		putEpisode(r.data);
		render();
		noteRecent(r.data);
		showDischarged(r.data);
		discharging = null; /* the row is going: focus returns to the board */
		ddlg.close();
	});

	/* ---- the whole stay: bed move, transfer, undo of a discharge ------------------------ */

	/* "Alex TESTPERSON": the name as said in a question */
	function spokenName(p) {
		if (!p)
			return "the patient";
		return ((p.given_name ? p.given_name + " " : "") + (p.family_name || "").toUpperCase()).trim() || "the patient";
	}

	function bedText(bed) {
		return bed ? "bed " + bed : "no bed";
	}

	/* The server's message in plain words (common.js: no JSON field names, "nothing was saved" offline). */
	function plainMessage(err) {
		return CB.plain(err);
	}

	function sentence(s) {
		return CB.sentence(s);
	}

	/* An error next to a dialog's field (prefix "me-" / "m-", "te-" / "t-"); false when it has no such field. */
	function stayFieldError(prefix, field, text) {
		const e = field && CB.$(prefix + "e-" + field);
		const input = field && CB.$(prefix + "-" + field);
		if (!e || !input)
			return false;
		e.textContent = text;
		if (text) {
			input.setAttribute("aria-invalid", "true");
			input.focus();
		} else {
			input.removeAttribute("aria-invalid");
		}
		return true;
	}

	/* The other patient shown in a bed on this board, if any. */
	function bedTakenBy(bed, id) {
		if (!bed)
			return null;
		for (const ep of episodes.values())
			if (ep.id !== id && ep.bed && bedCollator.compare(ep.bed, bed) === 0)
				return ep;
		return null;
	}

	/* A move, transfer or undo done; the last discharge's confirmation keeps its "Undo" beside it. */
	function stayOk(text) {
		CB.say(CB.$("stay-ok"), text, "ok");
	}

	/*
	 * A 412: someone changed the patient while the dialog was open.  The
	 * episode is read again so the dialog asks about what is true now.
	 */
	async function conflictText(d, what) {
		const g = await CB.api("GET", "/api/v1/episodes/" + d.id);
		if (!g.ok)
			return "Someone else changed " + d.name + " while this was open, and " + plainMessage(g.error) + ". Nothing was saved.";
		const ep = g.data;
		d.version = ep.version;
		d.bed = ep.bed;
		d.ward = ep.ward;
		putEpisode(ep);
		render();
		if (ep.state !== "admitted")
			return "Someone else changed " + d.name + " while this was open: the stay is now " + ep.state + ". Nothing was saved.";
		return "Someone else changed " + d.name + " while this was open: now " + bedText(ep.bed) + " on ward " + ep.ward +
			". Nothing was saved. Check the question below and " + what + " again if it is still right.";
	}

	/* -- bed move: PATCH {bed} with If-Match, the version the nurse saw -- */
	const mdlg = CB.$("move");

	function moveQuestion() {
		const bed = CB.$("m-bed").value.trim();
		let q = "";
		if (moving && bed && bed !== moving.bed) {
			q = "Move " + moving.name + " from " + bedText(moving.bed) + " to bed " + bed + "?";
			const other = bedTakenBy(bed, moving.id);
			if (other)
				q += " Bed " + bed + " is also shown for " + spokenName(other.patient) + ".";
		}
		CB.$("move-question").textContent = q;
	}

	function openMove(id) {
		const ep = episodes.get(id);
		if (!ep || !nurse)
			return;
		moving = { id: id, version: ep.version, bed: ep.bed || "", name: spokenName(ep.patient) };
		clearErrors("me-");
		CB.$("move-error").textContent = "";
		CB.$("move-title").textContent = "Move " + moving.name + " — " + bedText(moving.bed);
		CB.$("mh-bed").textContent = "Now in " + bedText(moving.bed) + ".";
		CB.$("m-bed").value = "";
		moveQuestion();
		mdlg.showModal();
		CB.$("m-bed").focus();
	}

	CB.$("m-bed").addEventListener("input", function () {
		stayFieldError("m", "bed", "");
		moveQuestion();
	});
	CB.$("move-close").addEventListener("click", function () { mdlg.close(); });
	mdlg.addEventListener("close", function () {
		const id = moving && moving.id;
		moving = null;
		const r = id && episodes.has(id) && rows.get(id);
		if (r) {
			r.tr.querySelector("button.move-bed").focus();
			refocus = { id: id, cls: "move-bed" };
			render();
		} else {
			CB.$("board-title").focus();
		}
	});

	CB.$("move-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const d = moving;
		if (!d || !nurse)
			return;
		clearErrors("me-");
		CB.$("move-error").textContent = "";
		const bed = CB.$("m-bed").value.trim();
		if (!bed)
			return stayFieldError("m", "bed", "Enter the new bed.");
		if (bed === d.bed)
			return stayFieldError("m", "bed", d.name + " is already in bed " + bed + ".");
		const button = CB.$("move-save");
		button.disabled = true;
		const r = await CB.api("PATCH", "/api/v1/episodes/" + d.id, { bed: bed }, { "If-Match": '"' + d.version + '"' });
		button.disabled = false;
		if (moving !== d)
			return;
		if (!r.ok) {
			if (r.status === 412) {
				CB.$("move-error").textContent = await conflictText(d, "move");
				CB.$("mh-bed").textContent = "Now in " + bedText(d.bed) + ".";
				CB.$("move-title").textContent = "Move " + d.name + " — " + bedText(d.bed);
				moveQuestion();
			} else if (!(r.error.field && stayFieldError("m", r.error.field, sentence(plainMessage(r.error))))) {
				CB.$("move-error").textContent = "Could not move " + d.name + ": " + plainMessage(r.error) + ".";
			}
			return;
		}
		putEpisode(r.data);
		render();
		stayOk("Moved " + d.name + " from " + bedText(d.bed) + " to bed " + r.data.bed + ".");
		mdlg.close();
	});

	/* -- transfer: POST …/transfer {ward, bed} with If-Match; any other ward the API knows -- */
	const tdlg = CB.$("transfer");
	let wardNames = {};         /* ward code -> name, from GET /api/v1/wards */

	function transferQuestion() {
		const to = CB.$("t-ward").value;
		const bed = CB.$("t-bed").value.trim();
		CB.$("transfer-question").textContent = transferring && to
			? "Transfer " + transferring.name + " from " + bedText(transferring.bed) + " on ward " + transferring.ward +
				" to ward " + to + (wardNames[to] && wardNames[to] !== to ? " (" + wardNames[to] + ")" : "") +
				(bed ? ", bed " + bed : ", bed not yet known") + "?"
			: "";
	}

	async function loadWardChoices(d) {
		const sel = CB.$("t-ward");
		CB.clear(sel);
		sel.appendChild(CB.el("option", { value: "", text: "Loading the wards…" }));
		sel.disabled = true;
		CB.$("transfer-save").disabled = true;
		const r = await CB.api("GET", "/api/v1/wards");
		if (transferring !== d)
			return;
		CB.clear(sel);
		sel.disabled = false;
		CB.$("transfer-save").disabled = false;
		if (!r.ok) {
			sel.appendChild(CB.el("option", { value: "", text: "Choose…" }));
			CB.$("transfer-error").textContent = "Could not load the wards: " + plainMessage(r.error) + ".";
			return;
		}
		wardNames = {};
		sel.appendChild(CB.el("option", { value: "", text: "Choose…" }));
		const items = (r.data.items || []).slice().sort(function (a, b) { return bedCollator.compare(a.code, b.code); });
		for (const w of items) {
			wardNames[w.code] = w.name || w.code;
			/* the API refuses a transfer to the ward the patient is on */
			if (w.code === d.ward)
				continue;
			sel.appendChild(CB.el("option", { value: w.code, text: w.code + (w.name && w.name !== w.code ? " — " + w.name : "") }));
		}
		if (sel.options.length === 1)
			CB.$("transfer-error").textContent = "There is no other ward to transfer to.";
		/* the select lost the focus while disabled: it takes it back, unless the nurse moved on */
		const a = document.activeElement;
		if (!a || a === document.body || a === sel || !tdlg.contains(a))
			sel.focus();
	}

	function openTransfer(id) {
		const ep = episodes.get(id);
		if (!ep || !nurse)
			return;
		transferring = { id: id, version: ep.version, bed: ep.bed || "", ward: ep.ward, name: spokenName(ep.patient) };
		clearErrors("te-");
		CB.$("transfer-error").textContent = "";
		CB.$("transfer-title").textContent = "Transfer " + transferring.name + " — " + bedText(transferring.bed);
		CB.$("t-bed").value = "";
		transferQuestion();
		tdlg.showModal();
		CB.$("t-ward").focus();
		loadWardChoices(transferring);
	}

	CB.$("t-ward").addEventListener("change", function () {
		stayFieldError("t", "ward", "");
		transferQuestion();
	});
	CB.$("t-bed").addEventListener("input", function () {
		stayFieldError("t", "bed", "");
		transferQuestion();
	});
	CB.$("transfer-close").addEventListener("click", function () { tdlg.close(); });
	tdlg.addEventListener("close", function () {
		const id = transferring && transferring.id;
		transferring = null;
		const r = id && episodes.has(id) && rows.get(id);
		if (r) {
			r.tr.querySelector("button.transfer").focus();
			refocus = { id: id, cls: "transfer" };
			render();
		} else {
			CB.$("board-title").focus();
		}
	});

	CB.$("transfer-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const d = transferring;
		if (!d || !nurse)
			return;
		clearErrors("te-");
		CB.$("transfer-error").textContent = "";
		const to = CB.$("t-ward").value;
		if (!to)
			return stayFieldError("t", "ward", "Choose the ward the patient is going to.");
		const body = { ward: to };
		const bed = CB.$("t-bed").value.trim();
		if (bed)
			body.bed = bed;
		const button = CB.$("transfer-save");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/episodes/" + d.id + "/transfer", body, { "If-Match": '"' + d.version + '"' });
		button.disabled = false;
		if (transferring !== d)
			return;
		if (!r.ok) {
			if (r.status === 412) {
				CB.$("transfer-error").textContent = await conflictText(d, "transfer");
				CB.$("transfer-title").textContent = "Transfer " + d.name + " — " + bedText(d.bed);
				transferQuestion();
			} else if (!(r.error.field && stayFieldError("t", r.error.field, sentence(plainMessage(r.error))))) {
				CB.$("transfer-error").textContent = "Could not transfer " + d.name + ": " + plainMessage(r.error) + ".";
			}
			return;
		}
		putEpisode(r.data); /* on another ward now: it leaves this board */
		render();
		stayOk("Transferred " + d.name + " to ward " + r.data.ward + (r.data.bed ? ", bed " + r.data.bed : "") + ".");
		tdlg.close();
	});

	/* -- undo of a discharge made in error: POST …/reopen with If-Match -- */
	const odlg = CB.$("reopen");
	const UNDO_WINDOW_MS = 120000; /* the "Undo" on the discharge confirmation */
	let undoTimer = null;
	let undoId = null;             /* the episode the discharge confirmation is about */

	/* The confirmation above the board after a discharge from this screen, with "Undo". */
	function showDischarged(ep) {
		const name = spokenName(ep.patient);
		const box = CB.$("discharge-ok");
		undoId = ep.id;
		CB.say(CB.$("stay-ok"), "");
		CB.say(box, "Discharged " + name + " (" + bedText(ep.bed) + ") on pathway " + pathwayLabel(ep.discharge_pathway) + ". ", "ok");
		const undo = CB.el("button", {
			type: "button", class: "secondary undo", id: "discharge-undo",
			"aria-label": "Undo the discharge of " + name + ", " + bedText(ep.bed),
			text: "Undo",
			onclick: function () { openReopen(recent && recent.get(ep.id) || ep, undo); },
		});
		box.appendChild(undo);
		clearTimeout(undoTimer);
		undoTimer = setTimeout(function () {
			if (!undo.isConnected)
				return;
			const had = document.activeElement === undo;
			undo.remove();
			box.appendChild(document.createTextNode("To undo it, use “Recently discharged” below the board."));
			if (had)
				CB.$("recent-summary").focus();
		}, UNDO_WINDOW_MS);
	}

	function openReopen(ep, back) {
		if (!ep || !nurse)
			return;
		const name = spokenName(ep.patient);
		reopening = { ep: ep, back: back || null, name: name };
		CB.$("reopen-error").textContent = "";
		CB.$("reopen-title").textContent = "Undo the discharge of " + name + " — " + bedText(ep.bed);
		CB.$("reopen-question").textContent = "Undo the discharge of " + name + " from " + bedText(ep.bed) +
			(ep.discharged_at ? " (left " + CB.showTime(ep.discharged_at) + ")" : "") +
			"? The patient comes back onto this board as admitted, and the recorded pathway and destination are cleared.";
		const other = bedTakenBy(ep.bed, ep.id);
		CB.say(CB.$("reopen-note"), other ? "Bed " + ep.bed + " is now shown for " + spokenName(other.patient) + ": move one of them after undoing." : "", "info");
		odlg.showModal();
		CB.$("reopen-save").focus();
	}

	CB.$("reopen-close").addEventListener("click", function () { odlg.close(); });
	odlg.addEventListener("close", function () {
		const d = reopening;
		reopening = null;
		if (d && d.back && d.back.isConnected)
			d.back.focus();
		else if (d && d.done)
			CB.$("board-title").focus();
		else if (!CB.$("recent").hidden && CB.$("recent").open)
			CB.$("recent-summary").focus();
		else
			CB.$("board-title").focus();
	});

	CB.$("reopen-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const d = reopening;
		if (!d || !nurse)
			return;
		CB.$("reopen-error").textContent = "";
		const button = CB.$("reopen-save");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/episodes/" + d.ep.id + "/reopen", {}, { "If-Match": '"' + d.ep.version + '"' });
		button.disabled = false;
		if (reopening !== d)
			return;
		if (!r.ok) {
			if (r.status === 412)
				CB.$("reopen-error").textContent = "Someone else changed " + d.name + "'s stay while this was open. Nothing was saved: close this and check the board.";
			else
				CB.$("reopen-error").textContent = "Could not undo the discharge of " + d.name + ": " + plainMessage(r.error) + ".";
			return;
		}
		const known = episodes.has(r.data.id);
		putEpisode(r.data);
		noteRecent(r.data);
		if (!known && episodes.has(r.data.id))
			loadEpisodeTasks(r.data.id); /* its tasks were made before the discharge */
		render();
		const done = "Discharge undone: " + d.name + " is back on the board, " + bedText(r.data.bed) + ".";
		if (undoId === r.data.id) {
			/* the confirmation with "Undo" was about this patient: it says so now */
			clearTimeout(undoTimer);
			undoId = null;
			CB.say(CB.$("stay-ok"), "");
			CB.say(CB.$("discharge-ok"), done, "ok");
		} else {
			stayOk(done);
		}
		d.done = true;
		d.back = null;
		refocus = null;
		odlg.close();
	});

	/* -- "Recently discharged": today's discharges from the ward, each with "Undo" -- */
	const RECENT_MAX = 1000; /* discharged stays read (newest admission first) to find today's */

	function dischargedToday(ep) {
		return ep.state === "discharged" && ep.discharged_at && CB.londonDate(new Date(ep.discharged_at)) === CB.londonDate();
	}

	/* An episode event or reply: a discharge of today joins the list, a reopening or cancellation leaves it. */
	function noteRecent(ep) {
		if (recent === null || !ep || !ep.id || (ward && ep.ward !== ward))
			return;
		const old = recent.get(ep.id);
		if (old && old.version > ep.version)
			return;
		if (dischargedToday(ep))
			recent.set(ep.id, ep);
		else
			recent.delete(ep.id);
		renderRecent();
	}

	async function loadRecent() {
		const at = ward;
		CB.say(CB.$("recent-msg"), "Loading…", "info");
		const r = await CB.apiAll("/api/v1/episodes?ward=" + encodeURIComponent(ward) + "&state=discharged", RECENT_MAX);
		if (at !== ward)
			return;
		if (!r.ok) {
			CB.say(CB.$("recent-msg"), "Could not load today's discharges: " + plainMessage(r.error) + ".", "bad");
			return;
		}
		const fresh = new Map();
		for (const ep of r.data.items)
			if (dischargedToday(ep))
				fresh.set(ep.id, ep);
		recent = fresh;
		CB.say(CB.$("recent-msg"), "");
		renderRecent();
	}

	function renderRecent() {
		const list = CB.$("recent-list");
		const a = document.activeElement;
		const key = a && list.contains(a) ? a.getAttribute("data-key") : null;
		CB.clear(list);
		if (recent === null) {
			CB.$("recent-summary").textContent = "Recently discharged";
			return;
		}
		const items = Array.from(recent.values()).filter(dischargedToday).sort(function (x, y) {
			return x.discharged_at < y.discharged_at ? 1 : x.discharged_at > y.discharged_at ? -1 : 0;
		});
		CB.$("recent-summary").textContent = "Recently discharged (" + items.length + " today)";
		if (items.length === 0) {
			list.appendChild(CB.el("li", { class: "note", text: "No discharges from this ward today." }));
			return;
		}
		for (const ep of items) {
			const name = spokenName(ep.patient);
			const pw = ep.discharge_pathway === null || ep.discharge_pathway === undefined ? "pathway not recorded" : "pathway " + ep.discharge_pathway;
			const li = CB.el("li", { "data-id": ep.id },
				CB.el("span", { class: "who", text: name }),
				" · " + bedText(ep.bed) + " · left " + CB.showTime(ep.discharged_at) + " · " + pw +
					(ep.discharge_destination_label ? " · " + ep.discharge_destination_label : "") +
					(ep.discharge_destination_note ? " · " + ep.discharge_destination_note : "") + " ",
				CB.el("button", {
					type: "button", class: "secondary undo", "data-key": "undo-" + ep.id,
					"aria-label": "Undo the discharge of " + name + ", " + bedText(ep.bed),
					text: "Undo",
					onclick: function (e) { openReopen(ep, e.currentTarget); },
				}));
			list.appendChild(li);
		}
		if (key) {
			const again = list.querySelector("[data-key='" + key + "']");
			(again || CB.$("recent-summary")).focus();
		}
	}

	if (nurse) {
		CB.$("recent").hidden = false;
		CB.$("recent").addEventListener("toggle", function () {
			if (CB.$("recent").open && recent === null)
				loadRecent();
		});
	}

	function renderEditTasks() {
		const box = CB.$("edit-tasks");
		/* keep the focus on the same select across a re-render (task events arrive while open) */
		const a = document.activeElement;
		const focusId = a && box.contains(a) ? a.id : null;
		CB.clear(box);
		const m = tasks.get(editing);
		const list = m ? Array.from(m.values()) : [];
		if (list.length === 0) {
			box.appendChild(CB.el("p", { class: "note", text: "No tasks." }));
			return;
		}
		const tbl = CB.el("table", {}, CB.el("thead", {}, CB.el("tr", {},
			CB.el("th", { scope: "col", text: "Task" }), CB.el("th", { scope: "col", text: "Due" }),
			CB.el("th", { scope: "col", text: "Status" }))));
		const tb = CB.el("tbody");
		for (const t of list) {
			const mine = t.discipline === myDisc && !!TASK_NEXT[t.status];
			const chosen = editChoices.has(t.id) ? editChoices.get(t.id) : t.status;
			const sel = CB.el("select", { id: "ts-" + t.id, "aria-label": "Status of " + t.title, disabled: !mine, "data-task": t.id });
			const allowed = [t.status].concat((TASK_NEXT[t.status] || []).map(function (x) { return x[0]; }));
			for (const st of TASK_STATUSES)
				if (allowed.indexOf(st) >= 0)
					sel.appendChild(CB.el("option", { value: st, selected: st === chosen, text: CB.taskLabel(st) }));
			sel.addEventListener("change", function () {
				if (sel.value === t.status)
					editChoices.delete(t.id);
				else
					editChoices.set(t.id, sel.value);
			});
			tb.appendChild(CB.el("tr", {},
				CB.el("td", {}, CB.el("span", { class: "note", text: (CB.DISCIPLINES[t.discipline] || t.discipline) + " · " }), t.title,
					isReferralTask(episodes.get(editing) || {}, t) ? CB.el("span", { class: "note", text: " (shown on the board as the referral to the hub)" }) : null),
				CB.el("td", {}, CB.showTime(t.due_at), t.overdue ? CB.el("span", { class: "badge delayed", text: " overdue" }) : null),
				CB.el("td", {}, sel)));
		}
		tbl.appendChild(tb);
		box.appendChild(tbl);
		if (focusId && CB.$(focusId))
			CB.$(focusId).focus();
	}

	/* ---- board round: each patient in bed order, one review and its barriers each ------ */
	const rdlg = CB.$("round");
	const REVIEW_FIELDS = ["outcome", "criteria_met", "decided_at", "note"];
	let criteria = null;        /* the criteria list in force: [{key, label}] */
	let reasons = null;         /* the default delay-reason list: [{key, label}] */
	let roundBarriers = null;   /* the shown patient's barriers (null while loading) */
	let roundReview = null;     /* the shown patient's latest review, once read */
	let decidedTouched = false; /* the agreed time was set by hand */

	function roundId() {
		return round ? round.ids[round.i] : null;
	}

	async function loadReference() {
		if (criteria && reasons)
			return null;
		const [c, d] = await Promise.all([CB.api("GET", "/api/v1/reference/criteria"), CB.api("GET", "/api/v1/reference/delay-reasons")]);
		if (!c.ok)
			return "Could not load the criteria to reside: " + c.error.message;
		if (!d.ok)
			return "Could not load the delay reasons: " + d.error.message;
		criteria = c.data.items || [];
		reasons = d.data.items || [];
		const box = CB.$("round-criteria");
		CB.clear(box);
		for (const it of criteria) {
			const id = "rc-" + it.key;
			box.appendChild(CB.el("span", {},
				CB.el("input", { type: "checkbox", id: id, value: it.key, "data-criterion": it.key, "aria-describedby": "rvh-criteria_met rve-criteria_met", onchange: criterionChanged }),
				" ", CB.el("label", { for: id, text: it.label })));
		}
		const sel = CB.$("bf-reason");
		CB.clear(sel);
		sel.appendChild(CB.el("option", { value: "", text: "Choose…" }));
		for (const it of reasons)
			sel.appendChild(CB.el("option", { value: it.key, text: it.label }));
		return null;
	}

	function criterionBoxes() {
		return Array.from(CB.$("round-criteria").querySelectorAll("input[type=checkbox]"));
	}

	/* ticking a criterion means "meets criteria"; NCTR means none is met */
	function criterionChanged() {
		if (criterionBoxes().some(function (b) { return b.checked; }))
			CB.$("rv-meets").checked = true;
		reviewError("outcome", "");
		reviewError("criteria_met", "");
	}

	CB.$("rv-nctr").addEventListener("change", function () {
		if (CB.$("rv-nctr").checked)
			for (const b of criterionBoxes())
				b.checked = false;
		reviewError("outcome", "");
	});
	CB.$("rv-meets").addEventListener("change", function () { reviewError("outcome", ""); });
	CB.$("rv-decided_at").addEventListener("input", function () {
		decidedTouched = true;
		reviewError("decided_at", "");
	});
	CB.$("rv-note").addEventListener("input", function () {
		if (CB.$("rv-note").getAttribute("aria-invalid") === "true")
			reviewError("note", "");
	});

	function reviewInput(field) {
		if (field === "outcome")
			return CB.$("rv-meets");
		if (field === "criteria_met")
			return criterionBoxes()[0] || null;
		return CB.$("rv-" + field);
	}

	/* Shows (or clears, text "") an error next to a review field; false when the field is unknown. */
	function reviewError(field, text) {
		const e = CB.$("rve-" + field);
		if (!e)
			return false;
		e.textContent = text;
		const inputs = field === "outcome" ? [CB.$("rv-meets"), CB.$("rv-nctr")] : field === "criteria_met" ? criterionBoxes() : [CB.$("rv-" + field)];
		for (const i of inputs) {
			if (text)
				i.setAttribute("aria-invalid", "true");
			else
				i.removeAttribute("aria-invalid");
		}
		return true;
	}

	function localTime(d) {
		const x = d || new Date();
		return String(x.getHours()).padStart(2, "0") + ":" + String(x.getMinutes()).padStart(2, "0");
	}

	function outcomeText(o) {
		return o === "nctr" ? "no criteria to reside" : o === "meets_criteria" ? "meets criteria" : o;
	}

	function fact(term, value, attrs) {
		return [CB.el("dt", { text: term }), CB.el("dd", attrs || {}, value)];
	}

	function renderRoundFacts() {
		const ep = episodes.get(roundId());
		const dl = CB.$("round-facts");
		CB.clear(dl);
		if (!ep) {
			dl.appendChild(CB.el("dd", { text: "This patient has left the ward." }));
			return;
		}
		const days = CB.daysSince(ep.admitted_at);
		let last = "Never reviewed";
		if (roundReview)
			last = CB.showTime(roundReview.decided_at) + ": " + outcomeText(roundReview.outcome) + " (" + roundReview.reviewer + ")";
		else if (ep.last_review_at)
			last = CB.showTime(ep.last_review_at);
		const items = [].concat(
			fact("Bed", ep.bed || "none"),
			fact("Length of stay", days + (days === 1 ? " day" : " days") + " (admitted " + CB.showTime(ep.admitted_at) + ")"),
			fact("Now", nctrBadge(ep)),
			fact("Last review", last, { "data-fact": "last-review" }),
			ep.review_overdue ? fact("Round", reviewMarker(ep)) : []);
		for (const n of items)
			dl.appendChild(n);
	}

	/* a review recorded elsewhere for the shown patient */
	function roundReviewSeen(r) {
		if (!roundReview || Date.parse(roundReview.decided_at) <= Date.parse(r.decided_at))
			roundReview = r;
		renderRoundFacts();
	}

	function renderProgress() {
		const n = round.ids.length;
		CB.$("round-progress").textContent = "Patient " + (round.i + 1) + " of " + n + " · " + round.reviewed.size + " reviewed, " + round.skipped.size + " skipped";
	}

	/* Show patient round.i: a fresh form, its facts, then its last review and barriers. */
	async function showRoundPatient() {
		const id = roundId();
		const ep = episodes.get(id);
		roundBarriers = null;
		roundReview = null;
		decidedTouched = false;
		CB.$("round-form").reset();
		for (const f of REVIEW_FIELDS)
			reviewError(f, "");
		CB.$("round-error").textContent = "";
		clearBarrierForm();
		CB.$("rv-decided_at").value = localTime();
		CB.$("round-title").textContent = "Board round: " + (ep ? CB.patientName(ep.patient) + " — bed " + (ep.bed || "none") : "patient left");
		CB.$("round-prev").disabled = round.i === 0;
		CB.$("round-save").textContent = round.i === round.ids.length - 1 ? "Save and finish" : "Save and next";
		renderProgress();
		renderRoundFacts();
		renderBarriers();
		CB.$("round-title").focus();
		const [rv, br] = await Promise.all([
			CB.api("GET", "/api/v1/episodes/" + id + "/reviews"),
			CB.api("GET", "/api/v1/episodes/" + id + "/barriers"),
		]);
		if (roundId() !== id)
			return;
		if (rv.ok && rv.data.items && rv.data.items.length)
			roundReview = rv.data.items[0];
		renderRoundFacts();
		if (br.ok) {
			roundBarriers = br.data.items || [];
			syncPrimary(id);
		} else {
			CB.$("barrier-error").textContent = "Could not load the barriers: " + br.error.message;
		}
		renderBarriers();
	}

	/* The row's primary barrier from the list just read (before its events arrive). */
	function syncPrimary(id) {
		const ep = episodes.get(id);
		if (!ep || !roundBarriers)
			return;
		for (const b of roundBarriers)
			putBarrier(b);
		if (!roundBarriers.some(function (b) { return b.open && b.primary; }))
			ep.primary_barrier = null;
		render();
	}

	/* Moves by step (+1 / -1) to the next patient still on the board; past the end, the round ends. */
	function moveRound(step) {
		let i = round.i + step;
		while (i >= 0 && i < round.ids.length && !episodes.has(round.ids[i]))
			i += step;
		if (i < 0)
			return;
		if (i >= round.ids.length) {
			rdlg.close();
			return;
		}
		round.i = i;
		showRoundPatient();
	}

	async function startRound() {
		const button = CB.$("round-start");
		CB.say(CB.$("round-summary"), "");
		button.disabled = true;
		const err = await loadReference();
		if (!err)
			await load(); /* the patients as they are now, to walk in bed order */
		button.disabled = false;
		if (err) {
			CB.say(CB.$("round-summary"), err, "bad");
			return;
		}
		const ids = Array.from(episodes.values()).sort(bedOrder).map(function (ep) { return ep.id; });
		if (ids.length === 0) {
			CB.say(CB.$("round-summary"), "No admitted patients to review.", "info");
			return;
		}
		round = { ids: ids, i: 0, reviewed: new Set(), skipped: new Set() };
		rdlg.showModal();
		showRoundPatient();
	}

	rdlg.addEventListener("close", function () {
		if (!round)
			return;
		const n = round.ids.length, done = round.reviewed.size;
		CB.say(CB.$("round-summary"), "Board round ended: " + done + " of " + n + (n === 1 ? " patient" : " patients") + " reviewed" +
			(round.skipped.size ? ", " + round.skipped.size + " skipped" : "") + ".", "ok");
		round = null;
		roundBarriers = null;
		CB.$("round-start").focus();
	});
	CB.$("round-skip").addEventListener("click", function () {
		const id = roundId();
		if (!round.reviewed.has(id))
			round.skipped.add(id);
		moveRound(1);
	});
	CB.$("round-prev").addEventListener("click", function () { moveRound(-1); });
	/* Ctrl+Enter saves from anywhere in the dialog (the button comes after the barriers) */
	rdlg.addEventListener("keydown", function (ev) {
		if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && !CB.$("round-save").disabled) {
			ev.preventDefault();
			CB.$("round-form").requestSubmit();
		}
	});
	CB.$("round-end").addEventListener("click", function () { rdlg.close(); });

	CB.$("round-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const id = roundId();
		const ep = episodes.get(id);
		for (const f of REVIEW_FIELDS)
			reviewError(f, "");
		CB.$("round-error").textContent = "";
		if (!ep) {
			moveRound(1);
			return;
		}
		const outcome = CB.$("rv-meets").checked ? "meets_criteria" : CB.$("rv-nctr").checked ? "nctr" : "";
		if (!outcome) {
			reviewError("outcome", "Choose the outcome: meets criteria, or no criteria to reside.");
			CB.$("rv-meets").focus();
			return;
		}
		const body = {
			outcome: outcome,
			criteria_met: outcome === "nctr" ? [] : criterionBoxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; }),
		};
		const note = CB.$("rv-note").value.trim();
		if (note)
			body.note = note;
		/* left alone, the time is the server's "now"; set by hand, it is that time today */
		const hm = CB.$("rv-decided_at").value;
		if (decidedTouched && hm) {
			const d = new Date();
			d.setHours(Number(hm.slice(0, 2)), Number(hm.slice(3, 5)), 0, 0);
			body.decided_at = CB.isoNow(d);
		}
		const button = CB.$("round-save");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/episodes/" + id + "/reviews", body);
		button.disabled = false;
		if (roundId() !== id)
			return;
		if (!r.ok) {
			if (r.error.field && reviewError(r.error.field, r.error.message)) {
				const input = reviewInput(r.error.field);
				if (input)
					input.focus();
			} else {
				CB.$("round-error").textContent = r.error.message;
			}
			return;
		}
		if (r.data && r.data.episode)
			putEpisode(r.data.episode);
		render();
		round.reviewed.add(id);
		round.skipped.delete(id);
		moveRound(1);
	});

	/* ---- the shown patient's barriers -------------------------------------------------- */
	function clearBarrierForm() {
		CB.$("barrier-form").reset();
		for (const f of ["reason", "owner", "note"])
			barrierError(f, "");
		CB.$("barrier-error").textContent = "";
		CB.say(CB.$("barrier-ok"), "");
	}

	function barrierError(field, text) {
		const e = CB.$("bfe-" + field);
		const input = CB.$("bf-" + field);
		if (!e)
			return false;
		e.textContent = text;
		if (text) {
			input.setAttribute("aria-invalid", "true");
			input.focus();
		} else {
			input.removeAttribute("aria-invalid");
		}
		return true;
	}

	function renderBarriers() {
		const box = CB.$("round-barriers");
		/* keep the focus on the same button across a re-render */
		const a = document.activeElement;
		const key = a && box.contains(a) ? a.getAttribute("data-key") : null;
		CB.clear(box);
		if (roundBarriers === null) {
			box.appendChild(CB.el("p", { class: "note", text: "Loading the barriers…" }));
			return;
		}
		const open = roundBarriers.filter(function (b) { return b.open; }).sort(function (x, y) {
			return (y.primary ? 1 : 0) - (x.primary ? 1 : 0) || (x.opened_at < y.opened_at ? -1 : x.opened_at > y.opened_at ? 1 : 0);
		});
		if (open.length === 0) {
			box.appendChild(CB.el("p", { class: "note", "data-barriers": "none", text: "No open barrier." }));
			return;
		}
		const tb = CB.el("tbody");
		for (const b of open) {
			const label = b.reason_label || b.reason;
			tb.appendChild(CB.el("tr", { "data-barrier": b.id, "data-primary": b.primary ? "yes" : "no" },
				CB.el("td", {}, label, b.primary ? " " : null, b.primary ? CB.el("span", { class: "badge nctr", text: "primary" }) : null),
				CB.el("td", { text: b.owner || "—" }),
				CB.el("td", { text: b.note || "" }),
				CB.el("td", { text: CB.showTime(b.opened_at) }),
				CB.el("td", {},
					b.primary ? null : CB.el("button", {
						type: "button", class: "secondary make-primary", "data-key": "primary-" + b.id,
						"aria-label": "Make " + label + " the primary barrier", text: "Make primary",
						onclick: function () { patchBarrier(b, { primary: true }, "Made primary: " + label + "."); },
					}),
					b.primary ? null : " ",
					CB.el("button", {
						type: "button", class: "secondary close-barrier", "data-key": "close-" + b.id,
						"aria-label": "Close barrier " + label, text: "Close",
						onclick: function () { patchBarrier(b, { closed: true }, "Closed: " + label + "."); },
					}))));
		}
		box.appendChild(CB.el("table", { class: "barriers" },
			CB.el("caption", { class: "visually-hidden", text: "Open barriers, primary first" }),
			CB.el("thead", {}, CB.el("tr", {},
				CB.el("th", { scope: "col", text: "Reason" }), CB.el("th", { scope: "col", text: "Owner" }),
				CB.el("th", { scope: "col", text: "Note" }), CB.el("th", { scope: "col", text: "Opened" }),
				CB.el("th", { scope: "col" }, CB.el("span", { class: "visually-hidden", text: "Actions" })))),
			tb));
		if (key) {
			const again = box.querySelector("[data-key='" + key + "']");
			if (again)
				again.focus();
			else
				CB.$("round-barriers-title").focus();
		}
	}

	/* After a change the list is read again: another barrier may have lost or gained primary. */
	async function reloadBarriers(id) {
		const r = await CB.api("GET", "/api/v1/episodes/" + id + "/barriers");
		if (roundId() !== id)
			return;
		if (r.ok) {
			roundBarriers = r.data.items || [];
			syncPrimary(id);
		}
		renderBarriers();
	}

	async function patchBarrier(b, change, done) {
		const id = roundId();
		CB.$("barrier-error").textContent = "";
		CB.say(CB.$("barrier-ok"), "");
		const r = await CB.api("PATCH", "/api/v1/barriers/" + b.id, change, { "If-Match": '"' + b.version + '"' });
		if (roundId() !== id)
			return;
		if (!r.ok) {
			CB.$("barrier-error").textContent = r.error.message;
			if (r.status === 412)
				await reloadBarriers(id);
			return;
		}
		await reloadBarriers(id);
		CB.say(CB.$("barrier-ok"), done, "ok");
	}

	CB.$("barrier-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const id = roundId();
		for (const f of ["reason", "owner", "note"])
			barrierError(f, "");
		CB.$("barrier-error").textContent = "";
		CB.say(CB.$("barrier-ok"), "");
		const reason = CB.$("bf-reason").value;
		if (!reason) {
			barrierError("reason", "Choose the reason the patient is waiting.");
			return;
		}
		const body = { reason: reason };
		const owner = CB.$("bf-owner").value.trim();
		const note = CB.$("bf-note").value.trim();
		if (owner)
			body.owner = owner;
		if (note)
			body.note = note;
		if (CB.$("bf-primary").checked)
			body.primary = true;
		const button = CB.$("barrier-add");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/episodes/" + id + "/barriers", body);
		button.disabled = false;
		if (roundId() !== id)
			return;
		if (!r.ok) {
			if (!(r.error.field && barrierError(r.error.field, r.error.message)))
				CB.$("barrier-error").textContent = r.error.message;
			return;
		}
		CB.$("barrier-form").reset();
		await reloadBarriers(id);
		CB.say(CB.$("barrier-ok"), "Added: " + barrierText(r.data) + (r.data.primary ? " (primary)." : "."), "ok");
	});

	/* ---- flag an admission ---------------------------------------------------------- */
	function fieldError(name, text) {
		const e = CB.$("e-" + name);
		const input = CB.$("f-" + name);
		if (e)
			e.textContent = text || "";
		if (input) {
			if (text)
				input.setAttribute("aria-invalid", "true");
			else
				input.removeAttribute("aria-invalid");
		}
		return !text;
	}

	/* Inline checks (the server checks again and its word wins). */
	function check(name) {
		const v = CB.$("f-" + name).value.trim();
		switch (name) {
		case "nhs_number":
			if (!v)
				return fieldError(name, "Enter the NHS number.");
			if (!/^[0-9]{10}$/.test(CB.nhsDigits(v)))
				return fieldError(name, "An NHS number has 10 digits.");
			if (!CB.nhsValid(v))
				return fieldError(name, "This NHS number fails its check digit: check it against the wristband.");
			return fieldError(name, "");
		case "family_name":
		case "given_name":
			return fieldError(name, v ? "" : "Enter the " + (name === "family_name" ? "family" : "given") + " name.");
		case "birth_date":
			if (!v)
				return fieldError(name, "Enter the date of birth.");
			if (v > CB.londonDate())
				return fieldError(name, "The date of birth is in the future.");
			return fieldError(name, "");
		case "bed":
			return fieldError(name, v ? "" : "Enter the bed.");
		case "admitted_at":
			return fieldError(name, v ? "" : "Enter when the patient was admitted.");
		case "pathway":
			return fieldError(name, v !== "" ? "" : "Choose the likely pathway.");
		case "expected_discharge_date": {
			const adm = CB.$("f-admitted_at").value;
			if (v && adm && v < adm.slice(0, 10))
				return fieldError(name, "The expected discharge is before the admission.");
			return fieldError(name, "");
		}
		default:
			return fieldError(name, "");
		}
	}

	function localNow() {
		const d = new Date();
		d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
		return d.toISOString().slice(0, 16);
	}

	function showFlag(open) {
		CB.$("flag-panel").hidden = !open;
		CB.$("flag-toggle").setAttribute("aria-expanded", open ? "true" : "false");
		if (open)
			CB.$("f-nhs_number").focus();
		else
			CB.$("flag-toggle").focus();
	}

	if (nurse) {
		CB.$("flag-toggle").hidden = false;
		CB.$("flag-toggle").addEventListener("click", function () {
			showFlag(CB.$("flag-panel").hidden);
		});
		CB.$("flag-close").addEventListener("click", function () { showFlag(false); });
		CB.$("f-admitted_at").value = localNow();
		for (const name of ADMIT_FIELDS) {
			const input = CB.$("f-" + name);
			input.addEventListener("blur", function () {
				if (input.value !== "")
					check(name);
			});
			/* a field marked wrong is checked again as it is corrected, not only on leaving it */
			input.addEventListener(input.tagName === "SELECT" ? "change" : "input", function () {
				if (input.getAttribute("aria-invalid") === "true")
					check(name);
			});
		}
		CB.$("flag-form").addEventListener("submit", async function (ev) {
			ev.preventDefault();
			CB.$("flag-error").textContent = "";
			CB.say(CB.$("flag-ok"), "");
			let first = null;
			for (const name of ADMIT_FIELDS) {
				if (!check(name) && !first)
					first = name;
			}
			if (first) {
				CB.$("f-" + first).focus();
				return;
			}
			const v = function (n) { return CB.$("f-" + n).value.trim(); };
			const adm = {
				nhs_number: CB.nhsDigits(v("nhs_number")),
				family_name: v("family_name"),
				given_name: v("given_name"),
				birth_date: v("birth_date"),
				ward: ward,
				bed: v("bed"),
				admitted_at: CB.isoNow(new Date(v("admitted_at"))),
				pathway: Number(v("pathway")),
			};
			if (v("sex"))
				adm.sex = v("sex");
			if (v("expected_discharge_date"))
				adm.expected_discharge_date = v("expected_discharge_date");
			/* what is known of the needs: the day-one referral's (pathways 1-3) */
			if (v("needs"))
				adm.needs = v("needs");
			const button = CB.$("flag-submit");
			button.disabled = true;
			const r = await CB.api("POST", "/api/v1/admissions", adm);
			button.disabled = false;
			if (!r.ok) {
				if (r.error.code === "network") {
					/* nothing was saved: say so, and offer to send the same again */
					CB.sayFailed(CB.$("flag-error"), "The admission", r.error, function () { CB.$("flag-form").requestSubmit(); });
				} else if (r.error.field && CB.$("e-" + r.error.field)) {
					/* a duplicate patient: the server says where the patient already is */
					fieldError(r.error.field, CB.sentence(CB.plain(r.error)));
					CB.$("f-" + r.error.field).focus();
				} else {
					CB.$("flag-error").textContent = CB.sentence(CB.plain(r.error));
				}
				return;
			}
			const ep = r.data;
			putEpisode(ep);
			for (const t of ep.tasks || [])
				putTask(t);
			render();
			CB.$("flag-form").reset();
			CB.$("f-admitted_at").value = localNow();
			CB.say(CB.$("flag-ok"), "Flagged " + CB.patientName(ep.patient) + " in bed " + (ep.bed || "—") + ".", "ok");
		});
	}

	/* ---- ward choice, stream, start --------------------------------------------------- */
	function streamQuery() {
		return ward ? "ward=" + encodeURIComponent(ward) : "";
	}

	if (nurse && me.wards.length > 1) {
		const sel = CB.$("ward-select");
		for (const w of me.wards)
			sel.appendChild(CB.el("option", { value: w, text: w }));
		CB.$("ward-pick").hidden = false;
		sel.addEventListener("change", function () {
			ward = sel.value;
			CB.$("ward-label").textContent = "ward " + ward;
			recent = null;
			renderRecent();
			if (CB.$("recent").open)
				loadRecent();
			if (live && live.es)
				live.es.close();
			live = new CB.Live(STREAM_TYPES, streamQuery(), onEvent, load);
			load();
		});
	}
	CB.$("ward-label").textContent = ward ? "ward " + ward : "every ward (" + (CB.DISCIPLINES[myDisc] || myDisc) + " tasks)";
	if (nurse && !ward) {
		CB.say(msg, "Your account has no ward: ask an administrator to add one.", "bad");
		return;
	}
	if (nurse) {
		CB.$("round-start").hidden = false;
		CB.$("round-start").addEventListener("click", startRound);
	}
	render = CB.throttle(render, 100);
	live = new CB.Live(STREAM_TYPES, streamQuery(), onEvent, load);
	await load();
	/* the day count changes at midnight */
	setInterval(render, 60000);
})();
