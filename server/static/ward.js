/*
 * ward.js - the ward board.  A nurse sees her ward's admitted patients, flags
 * admissions, sets readiness, expected date and likely pathway, records a
 * discharge with the pathway actually taken, and moves ward tasks on; OT and
 * physio see every ward read-only with their own discipline's tasks, which
 * they can move on.  Live from /api/v1/stream.
 */
"use strict";

(async function () {
	/*
	 * Every episode event (a patient arrives, changes, is transferred in or
	 * out, leaves by discharge or HL7 A11 cancelling, or comes back by A13
	 * reopening), every task and assessment event (the chips) and the delays
	 * (the "delayed" badge).  Chases are not shown on the board.
	 */
	const STREAM_TYPES = [
		"episode.admitted", "episode.updated", "episode.ready", "episode.transferred",
		"episode.discharged", "episode.cancelled", "episode.reopened",
		"task.created", "task.updated", "task.overdue",
		"assessment.opened", "assessment.claimed", "assessment.released", "assessment.updated",
		"delay.opened", "delay.updated", "delay.closed",
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
		} else if (type.indexOf("assessment.") === 0) {
			const ep = episodes.get(p.episode_id);
			if (ep && (!ep.assessment || ep.assessment.version <= p.version))
				ep.assessment = p;
		} else if (type.indexOf("delay.") === 0) {
			const ep = episodes.get(p.episode_id);
			if (ep)
				ep.delay = p;
		}
		if (editing && type.indexOf("task.") === 0 && p.episode_id === editing)
			renderEditTasks();
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
	}

	/* ---- rendering: one keyed row per episode, rebuilt only when it changed ------------ */
	function taskChips(ep) {
		const groups = {};
		const m = tasks.get(ep.id);
		for (const t of m ? m.values() : []) {
			(groups[t.discipline] = groups[t.discipline] || []).push(t);
		}
		const wrap = CB.el("div", { class: "chips" });
		for (const d of ["ward", "social_work", "ot", "physio"]) {
			const list = groups[d];
			const extra = d === "social_work" && ep.assessment && (nurse || myDisc === "social_work");
			if (!list && !extra)
				continue;
			const g = CB.el("span", { class: "chip-group" }, CB.el("span", { class: "disc", text: CB.DISCIPLINES[d] || d }));
			if (extra) {
				const a = ep.assessment;
				g.appendChild(CB.el("span", {
					class: "chip st-" + (a.state === "unclaimed" ? "requested" : a.state === "claimed" ? "accepted" : a.state),
					title: "Care Act assessment" + (a.claimed_by_name ? " — " + a.claimed_by_name : ""),
					text: "assessment " + a.state,
				}));
			}
			for (const t of list || []) {
				g.appendChild(CB.el("span", {
					class: "chip st-" + t.status + (t.overdue ? " overdue" : ""),
					title: t.title + (t.due_at ? ", due " + CB.showTime(t.due_at) : "") + (t.overdue ? " (overdue)" : ""),
					"data-task": t.id,
					"data-status": t.status,
					text: t.title.split(" ").slice(0, 2).join(" ") + " · " + t.status,
				}, t.overdue ? CB.el("span", { class: "visually-hidden", text: " overdue" }) : null));
			}
			wrap.appendChild(g);
		}
		return wrap;
	}

	function rowSig(ep) {
		const m = tasks.get(ep.id);
		let s = ep.version + "|" + ep.bed + "|" + (ep.assessment ? ep.assessment.state + ep.assessment.version : "") + "|" + (ep.delay ? ep.delay.version : "");
		for (const t of m ? m.values() : [])
			s += "|" + t.id + t.version + t.overdue;
		return s + "|" + CB.londonDate();
	}

	function buildRow(ep) {
		const p = ep.patient || {};
		const days = CB.daysSince(ep.admitted_at);
		const ready = ep.ready;
		const delayed = ep.delay && !ep.delay.closed_at;
		const tr = CB.el("tr", { "data-id": ep.id },
			CB.el("td", { text: ep.bed || "—" }),
			CB.el("th", { scope: "row" }, CB.patientName(p), nurse ? null : CB.el("span", { class: "note", text: " · " + ep.ward })),
			CB.el("td", { class: "num", text: String(days) }),
			CB.el("td", { text: CB.showDate(ep.expected_discharge_date) }),
			CB.el("td", {},
				CB.el("span", { class: "badge " + (ready ? "yes" : "no"), "data-ready": ready ? "yes" : "no", text: ready ? "Ready" : "Not ready" }),
				delayed ? CB.el("span", { class: "badge delayed", text: " delayed " + CB.delayDays(ep.delay) + "d" }) : null),
			CB.el("td", { text: ep.pathway === null || ep.pathway === undefined ? "—" : String(ep.pathway) }),
			CB.el("td", {}, taskChips(ep)),
			CB.el("td", {}, CB.el("button", {
				type: "button", class: "secondary",
				"aria-label": "Update " + CB.patientName(p) + ", bed " + (ep.bed || "none"),
				onclick: function () { openEdit(ep.id); },
				text: "Update",
			}), nurse ? " " : null, nurse ? CB.el("button", {
				type: "button", class: "secondary discharge",
				"aria-label": "Discharge " + CB.patientName(p) + ", bed " + (ep.bed || "none"),
				onclick: function () { openDischarge(ep.id); },
				text: "Discharge",
			}) : null));
		return tr;
	}

	function bedKey(ep) {
		return [ep.ward, String(ep.bed || "").padStart(6, "0"), ep.admitted_at];
	}

	function render() {
		const list = Array.from(episodes.values()).sort(function (a, b) {
			const x = bedKey(a), y = bedKey(b);
			return x < y ? -1 : x > y ? 1 : 0;
		});
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
	}

	/* ---- update dialog -------------------------------------------------------------- */
	const dlg = CB.$("edit");

	function clearErrors(prefix) {
		for (const e of document.querySelectorAll("[id^='" + prefix + "']"))
			e.textContent = "";
		for (const e of document.querySelectorAll("[aria-invalid='true']"))
			e.removeAttribute("aria-invalid");
	}

	function openEdit(id) {
		const ep = episodes.get(id);
		if (!ep)
			return;
		editing = id;
		clearErrors("xe-");
		CB.$("edit-error").textContent = "";
		CB.$("edit-title").textContent = "Update " + CB.patientName(ep.patient) + " — bed " + (ep.bed || "none");
		CB.$("x-expected_discharge_date").value = ep.expected_discharge_date || "";
		CB.$("x-pathway").value = ep.pathway === null || ep.pathway === undefined ? "" : String(ep.pathway);
		CB.$("x-ready").checked = !!ep.ready;
		for (const id2 of ["x-expected_discharge_date", "x-pathway", "x-ready", "edit-save"])
			CB.$(id2).disabled = !nurse;
		renderEditTasks();
		dlg.showModal();
	}

	CB.$("edit-close").addEventListener("click", function () { dlg.close(); });
	dlg.addEventListener("close", function () {
		const id = editing;
		editing = null;
		const r = id && rows.get(id);
		if (r)
			r.tr.querySelector("button").focus();
	});

	CB.$("edit-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const ep = episodes.get(editing);
		if (!ep || !nurse)
			return;
		clearErrors("xe-");
		const change = {};
		const edd = CB.$("x-expected_discharge_date").value;
		if (edd !== (ep.expected_discharge_date || ""))
			change.expected_discharge_date = edd || null;
		const pw = CB.$("x-pathway").value;
		if (pw !== (ep.pathway === null || ep.pathway === undefined ? "" : String(ep.pathway)))
			change.pathway = pw === "" ? null : Number(pw);
		const ready = CB.$("x-ready").checked;
		if (ready !== !!ep.ready)
			change.ready_at = ready ? CB.isoNow() : null;
		if (Object.keys(change).length === 0) {
			dlg.close();
			return;
		}
		const r = await CB.api("PATCH", "/api/v1/episodes/" + ep.id, change, { "If-Match": '"' + ep.version + '"' });
		if (!r.ok) {
			const f = r.error.field && CB.$("xe-" + r.error.field);
			if (f) {
				f.textContent = r.error.message;
				const input = CB.$("x-" + (r.error.field === "ready_at" ? "ready" : r.error.field));
				if (input) {
					input.setAttribute("aria-invalid", "true");
					input.focus();
				}
			} else {
				CB.$("edit-error").textContent = r.error.message;
			}
			return;
		}
		putEpisode(r.data);
		render();
		dlg.close();
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
		const body = { pathway: Number(pw), discharged_at: CB.isoNow(new Date(left)) };
		const dest = CB.$("d-destination").value.trim();
		if (dest)
			body.destination = dest;
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
		CB.say(CB.$("discharge-ok"), "Discharged " + CB.patientName(r.data.patient) + " on pathway " + pathwayLabel(r.data.discharge_pathway) + ".", "ok");
		discharging = null; /* the row is going: focus returns to the board */
		ddlg.close();
	});

	function renderEditTasks() {
		const box = CB.$("edit-tasks");
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
			const mine = t.discipline === myDisc;
			const sel = CB.el("select", { id: "ts-" + t.id, "aria-label": "Status of " + t.title, disabled: !mine });
			for (const s of TASK_STATUSES)
				sel.appendChild(CB.el("option", { value: s, selected: s === t.status, text: s }));
			const note = CB.el("span", { class: "row-msg", role: "status" });
			const btn = CB.el("button", {
				type: "button", class: "secondary", disabled: !mine, text: "Set",
				"aria-label": "Set status of " + t.title,
				onclick: async function () {
					if (sel.value === t.status)
						return;
					const r = await CB.api("PATCH", "/api/v1/tasks/" + t.id, { status: sel.value }, { "If-Match": '"' + t.version + '"' });
					if (!r.ok) {
						note.className = "row-msg bad";
						note.textContent = r.error.message;
						return;
					}
					putTask(r.data);
					render();
					renderEditTasks();
				},
			});
			tb.appendChild(CB.el("tr", {},
				CB.el("td", {}, CB.el("span", { class: "note", text: (CB.DISCIPLINES[t.discipline] || t.discipline) + " · " }), t.title),
				CB.el("td", {}, CB.showTime(t.due_at), t.overdue ? CB.el("span", { class: "badge delayed", text: " overdue" }) : null),
				CB.el("td", {}, sel, " ", btn, note)));
		}
		tbl.appendChild(tb);
		box.appendChild(tbl);
	}

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
			const button = CB.$("flag-submit");
			button.disabled = true;
			const r = await CB.api("POST", "/api/v1/admissions", adm);
			button.disabled = false;
			if (!r.ok) {
				if (r.error.field && CB.$("e-" + r.error.field)) {
					fieldError(r.error.field, r.error.message);
					CB.$("f-" + r.error.field).focus();
				} else {
					CB.$("flag-error").textContent = r.error.message;
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
	render = CB.throttle(render, 100);
	live = new CB.Live(STREAM_TYPES, streamQuery(), onEvent, load);
	await load();
	/* the day count changes at midnight */
	setInterval(render, 60000);
})();
