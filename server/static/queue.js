/*
 * queue.js - the social-work queue, on the referrals to the care transfer hub
 * (issue 15; it was the Care Act assessments' queue): the day-one referrals
 * not yet sent arriving live (the newest highlighted), triaged (likely
 * pathway, EDD, NCTR state, primary barrier, days since admission, time
 * waiting) and sorted longest waiting first; filtered by ward and pathway
 * (kept in the page's URL, so a reload keeps them); held with one click (the
 * old "claim": a lost race shows the server's message); "my cases" to
 * complete and send with the needs and contacts (sending asks first, naming
 * the patient), release or withdraw with a reason; the referrals the hub has,
 * with its answer (waiting, information requested: answer and send again,
 * declined: the reason, send again); and the cases the team holds, with who
 * holds each; a team lead (me.team_lead) may give any case being completed,
 * or not yet held, to another social worker, after a confirmation naming the
 * patient and both people (POST .../assign; both people's queues follow
 * live).  Every referral's state is named as on the ward board and the
 * dashboard (CB.referralChip).
 *
 * Discharged patients: the discharge withdraws or completes the referral,
 * which leaves every list; one still open for a patient who has left is
 * marked "Discharged" and sorted last.
 */
"use strict";

(async function () {
	/*
	 * Every referral event (the lists themselves), and the episode and
	 * barrier events that change what a row shows about its patient: ward
	 * and bed, name, EDD and pathway (updated), readiness (ready), primary
	 * barrier, and the episode's state (discharged, reopened, cancelled).
	 */
	const STREAM_TYPES = [
		"referral.created", "referral.updated",
		"episode.transferred", "episode.updated", "episode.ready", "episode.ready_withdrawn", "episode.discharged",
		"episode.reopened", "episode.cancelled", "barrier.opened", "barrier.updated", "barrier.closed",
	];
	const me = await CB.requireUser(["social_worker"]);
	const SENT = ["referred", "info_requested", "declined", "accepted", "sourced", "start_confirmed"];
	const lead = me.team_lead === true; /* a team lead reassigns (GET /api/v1/social-workers) */
	let workers = new Map();            /* a lead's: social worker id -> {id, name, display_name} */

	const referrals = new Map(); /* id -> cb_referral_view_json, open ones */
	const episodes = new Map();  /* episode id -> episode summary (bed, primary barrier) */
	const fresh = new Set();     /* ids that arrived after the first load */
	let loaded = false;

	const qBody = CB.$("queue-body");
	const mBody = CB.$("mine-body");
	const hBody = CB.$("held-body");
	const sBody = CB.$("sent-body");
	const claimMsg = CB.$("claim-msg");
	const fWard = CB.$("f-ward");
	const fPathway = CB.$("f-pathway");

	/* ---- filters: in the URL's query, so a reload or a shared link keeps them ---------- */
	const params = new URLSearchParams(location.search);
	const filter = { ward: params.get("ward") || "", pathway: params.get("pathway") || "" };

	function saveFilter() {
		const q = new URLSearchParams();
		if (filter.ward)
			q.set("ward", filter.ward);
		if (filter.pathway)
			q.set("pathway", filter.pathway);
		const s = q.toString();
		history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
	}

	/* The patient as the queue shows them: the episode summary, else the referral's essentials. */
	function ep(r) {
		return episodes.get(r.episode_id) || r.episode || {};
	}

	function passes(r) {
		const e = ep(r);
		const pw = e.pathway;
		if (filter.ward && e.ward !== filter.ward)
			return false;
		if (filter.pathway === "none")
			return pw === null || pw === undefined;
		return !filter.pathway || String(pw) === filter.pathway;
	}

	/* The ward choices: every ward with a case, and the one asked for. */
	function fillWards() {
		const wards = new Set(Array.from(referrals.values()).map(function (r) { return ep(r).ward; }).filter(Boolean));
		if (filter.ward)
			wards.add(filter.ward);
		const have = Array.from(fWard.options).slice(1).map(function (o) { return o.value; });
		const want = Array.from(wards).sort();
		if (have.join("\n") !== want.join("\n")) {
			while (fWard.options.length > 1)
				fWard.remove(1);
			for (const w of want)
				fWard.appendChild(CB.el("option", { value: w, text: w }));
		}
		fWard.value = filter.ward;
	}

	fPathway.value = filter.pathway;
	fWard.addEventListener("change", function () {
		filter.ward = fWard.value;
		saveFilter();
		render();
	});
	fPathway.addEventListener("change", function () {
		filter.pathway = fPathway.value;
		saveFilter();
		render();
	});
	CB.$("filters").addEventListener("submit", function (ev) { ev.preventDefault(); });

	/* ---- what a row shows ---------------------------------------------------------------- */

	function admitted(r) {
		return ep(r).state === "admitted";
	}

	/* Longest waiting first: by notified_at, oldest first; discharged patients last. */
	function byWaiting(a, b) {
		if (admitted(a) !== admitted(b))
			return admitted(a) ? -1 : 1;
		if (a.notified_at !== b.notified_at)
			return a.notified_at < b.notified_at ? -1 : 1;
		return a.id < b.id ? -1 : 1;
	}

	/* The hub's answers that need the ward first, then the longest waiting. */
	function bySent(a, b) {
		const na = a.state === "info_requested" || a.state === "declined";
		const nb = b.state === "info_requested" || b.state === "declined";
		return na !== nb ? (na ? -1 : 1) : byWaiting(a, b);
	}

	/* Time since the referral opened (day one): hours on day one, then days and hours. */
	function waiting(iso) {
		const h = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 3600000));
		return h < 24 ? h + " h" : Math.floor(h / 24) + " d " + (h % 24) + " h";
	}

	function nctr(e) {
		if (!e || e.state !== "admitted")
			return "—";
		return e.ready_at ? "NCTR since " + CB.showTime(e.ready_at) : "Not NCTR";
	}

	function barrier(e) {
		const b = e && e.primary_barrier;
		if (!b)
			return "None recorded";
		return (b.reason_label || b.reason) + (b.owner ? " (" + b.owner + ")" : "");
	}

	function pathway(e) {
		return !e || e.pathway === null || e.pathway === undefined ? "Not decided" : String(e.pathway);
	}

	function bed(r) {
		const e = episodes.get(r.episode_id);
		return e && e.bed ? e.bed : "—";
	}

	/* A social worker by id as people know them: the display name where the lead's list has it. */
	function person(id, fallback) {
		const w = workers.get(id);
		return w ? (w.display_name || w.name) : (fallback || "—");
	}

	/* The triage cells every list of cases shares, after the waiting time. */
	function triageCells(r) {
		const e = ep(r);
		const gone = !admitted(r);
		return [
			CB.el("td", { class: "num", "data-col": "waiting", "data-opened": r.notified_at, text: waiting(r.notified_at) }),
			CB.el("th", { scope: "row" }, CB.patientName(r.patient),
				gone ? " " : null, gone ? CB.el("span", { class: "badge discharged", text: e.state === "cancelled" ? "Cancelled" : "Discharged" }) : null),
			CB.el("td", { "data-col": "ward", text: (e.ward || "—") + " · " + bed(r) }),
			CB.el("td", { "data-col": "pathway", text: pathway(e) }),
			CB.el("td", { "data-col": "edd", text: CB.showDate(e.expected_discharge_date) }),
			CB.el("td", { "data-col": "nctr", text: nctr(e) }),
			CB.el("td", { "data-col": "barrier", text: barrier(e) }),
			CB.el("td", { class: "num", "data-col": "admitted", text: e.admitted_at ? CB.daysSince(e.admitted_at) + " d" : "—" }),
		];
	}

	function stateChip(r) {
		return CB.el("td", { "data-col": "referral" }, CB.referralChipEl(r, r.organisation ? "Referral to " + r.organisation.name : "No hub set for this ward"));
	}

	/* What the hub said, for the referrals it has. */
	function hubSays(r) {
		if (r.state === "info_requested")
			return "Asks: " + (r.info_request || "—");
		if (r.state === "declined")
			return "Declined: " + (r.decline_reason || "—");
		if (r.state === "referred")
			return "Sent " + CB.showTime(r.referred_at) + (r.organisation ? " to " + r.organisation.name : "");
		if (r.service)
			return (CB.SERVICE_KINDS[r.service.kind] || r.service.kind) + (r.service.provider ? ", " + r.service.provider.name : "") +
				(r.service.detail ? ", " + r.service.detail : "") + (r.service.start_date ? ", from " + CB.showDate(r.service.start_date) : "");
		return r.state === "accepted" ? "Accepted " + CB.showTime(r.accepted_at) : "—";
	}

	/* ---- loading ------------------------------------------------------------------------- */

	/* Every referral of a list query, page after page (next_cursor). */
	async function fetchReferrals(query) {
		const items = [];
		let cursor = null;
		for (let i = 0; i < 100; i++) {
			const r = await CB.api("GET", "/api/v1/referrals?" + query + "&limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
			if (!r.ok)
				return r;
			items.push.apply(items, (r.data && r.data.items) || []);
			cursor = r.data && r.data.next_cursor;
			if (!cursor)
				break;
		}
		return { ok: true, items: items };
	}

	function putReferral(r) {
		const old = referrals.get(r.id);
		if (old && old.version > r.version)
			return;
		if (r.closed_at)
			referrals.delete(r.id);
		else
			referrals.set(r.id, r);
	}

	function putEpisode(e) {
		const old = episodes.get(e.id);
		if (old && old.version > e.version)
			return;
		if (e.state !== "admitted") {
			episodes.delete(e.id);
			/* the referral's own essentials keep the state for the "Discharged" mark */
			for (const r of referrals.values())
				if (r.episode_id === e.id && r.episode)
					r.episode = Object.assign({}, r.episode, { state: e.state });
			return;
		}
		const next = Object.assign({}, old || {}, e);
		if (e.primary_barrier === undefined && old)
			next.primary_barrier = old.primary_barrier;
		episodes.set(e.id, next);
	}

	async function load() {
		const [r, e] = await Promise.all([fetchReferrals("open=true"), CB.apiAll("/api/v1/episodes")]);
		if (!r.ok) {
			CB.say(CB.$("queue-msg"), "Could not load the referrals: " + r.error.message, "bad");
			return;
		}
		const known = new Set(referrals.keys());
		referrals.clear();
		for (const x of r.items)
			putReferral(x);
		if (loaded)
			for (const id of referrals.keys())
				if (!known.has(id))
					fresh.add(id);
		episodes.clear();
		if (e.ok)
			for (const x of e.data.items)
				putEpisode(x);
		loaded = true;
		render();
		document.body.setAttribute("data-loaded", "true");
	}

	/*
	 * Rows keyed by referral id: a row whose case is unchanged (same sig)
	 * is kept, so focus and a row someone is about to click survive a
	 * change elsewhere; changed ones are built anew; then the body takes
	 * list's order.
	 */
	function keyed(body, list, sig, build) {
		const old = new Map();
		for (const tr of Array.from(body.children))
			old.set(tr.getAttribute("data-id"), tr);
		list.forEach(function (r, i) {
			const k = sig(r);
			let tr = old.get(r.id);
			if (!tr || tr.cbSig !== k) {
				tr = build(r);
				tr.cbSig = k;
			}
			if (body.children[i] !== tr)
				body.insertBefore(tr, body.children[i] || null);
		});
		while (body.children.length > list.length)
			body.removeChild(body.lastChild);
	}

	function rowSig(r) {
		return JSON.stringify(r) + "|" + JSON.stringify(episodes.get(r.episode_id) || null) + "|" + CB.londonDate();
	}

	function render() {
		fillWards();
		const all = Array.from(referrals.values());
		const notified = all.filter(function (r) { return r.state === "notified"; });
		const queue = notified.filter(function (r) { return !r.held_by && admitted(r); }).sort(byWaiting);
		const held = notified.filter(function (r) { return !!r.held_by; }).sort(byWaiting);
		const sent = all.filter(function (r) { return SENT.indexOf(r.state) >= 0; }).sort(bySent);
		const shownQueue = queue.filter(passes);
		const shownHeld = held.filter(passes);
		const shownSent = sent.filter(passes);
		const hidden = queue.length - shownQueue.length + held.length - shownHeld.length + sent.length - shownSent.length;
		CB.$("filter-note").textContent = hidden > 0 ? hidden + " cases hidden by the filters." : "";

		/* the newest arrival: the fresh one notified last */
		let newest = null;
		for (const r of shownQueue)
			if (fresh.has(r.id) && (!newest || r.notified_at >= newest.notified_at))
				newest = r;
		const newestId = newest ? newest.id : null;

		CB.$("queue-count").textContent = String(shownQueue.length);
		CB.say(CB.$("queue-msg"), shownQueue.length === 0
			? (queue.length === 0 ? "No referrals waiting to be completed." : "No referrals match the filters.") : "", "info");
		keyed(qBody, shownQueue, function (r) {
			return rowSig(r) + "|" + fresh.has(r.id) + "|" + (r.id === newestId);
		}, function (r) {
			const isNew = fresh.has(r.id);
			const cells = triageCells(r);
			if (r.id === newestId)
				cells[1].appendChild(CB.el("span", { class: "badge newest", text: " new" }));
			const tr = CB.el("tr", { "data-id": r.id, "data-ward": ep(r).ward, class: (isNew ? "is-new" : "") + (r.id === newestId ? " is-newest" : "") });
			for (const c of cells)
				tr.appendChild(c);
			const acts = CB.el("span", { class: "actions" }, CB.el("button", {
				type: "button", class: "claim", text: "Hold",
				"aria-label": "Hold the referral of " + CB.patientName(r.patient) + " to complete it",
				onclick: function (ev) { hold(r, ev.currentTarget); },
			}));
			if (lead)
				acts.appendChild(assignButton(r, "Assign"));
			tr.appendChild(CB.el("td", {}, acts));
			return tr;
		});

		CB.$("sent-count").textContent = String(shownSent.length);
		CB.say(CB.$("sent-msg"), shownSent.length === 0 ? "No referral is with the hub." : "", "info");
		keyed(sBody, shownSent, rowSig, function (r) {
			const tr = CB.el("tr", { "data-id": r.id, "data-ward": ep(r).ward, "data-state": r.state });
			for (const c of triageCells(r))
				tr.appendChild(c);
			tr.appendChild(stateChip(r));
			tr.appendChild(CB.el("td", { "data-col": "hub", text: hubSays(r) }));
			const acts = CB.el("span", { class: "actions" });
			if (r.state === "info_requested" || r.state === "declined") {
				const label = r.state === "info_requested" ? "Answer and send again" : "Send again";
				acts.appendChild(CB.el("button", {
					type: "button", "data-step": "send", text: label, "aria-label": label + ": " + CB.patientName(r.patient),
					onclick: function (ev) { openDialog(r, "send", ev.currentTarget); },
				}));
			}
			acts.appendChild(CB.el("button", {
				type: "button", class: "secondary", "data-step": "withdraw", text: "Withdraw",
				"aria-label": "Withdraw the referral of " + CB.patientName(r.patient),
				onclick: function (ev) { openDialog(r, "withdraw", ev.currentTarget); },
			}));
			tr.appendChild(CB.el("td", {}, acts));
			return tr;
		});

		CB.$("held-count").textContent = String(shownHeld.length);
		CB.say(CB.$("held-msg"), shownHeld.length === 0 ? "No case is held by the team." : "", "info");
		keyed(hBody, shownHeld, function (r) { return rowSig(r) + "|" + person(r.held_by, ""); }, function (r) {
			const tr = CB.el("tr", { "data-id": r.id, "data-ward": ep(r).ward });
			for (const c of triageCells(r))
				tr.appendChild(c);
			tr.appendChild(stateChip(r));
			tr.appendChild(CB.el("td", { "data-col": "holder", text: r.held_by === me.id ? "You" : person(r.held_by, r.held_by_name) }));
			if (lead)
				tr.appendChild(CB.el("td", {}, assignButton(r, "Reassign")));
			return tr;
		});

		const mine = held.filter(function (r) { return r.held_by === me.id; });
		CB.say(CB.$("mine-msg"), mine.length === 0 ? "You hold no referrals to complete." : "", "info");
		keyed(mBody, mine, rowSig, function (r) {
			const e = ep(r);
			const acts = CB.el("td", {}, CB.el("span", { class: "actions" }));
			const note = CB.el("span", { class: "row-msg", role: "status" });
			const name = CB.patientName(r.patient);
			for (const [label, what] of [["Send to the hub", "send"], ["Release", "release"], ["Withdraw", "withdraw"]]) {
				acts.firstChild.appendChild(CB.el("button", {
					type: "button", class: what === "send" ? "" : "secondary", text: label, "data-step": what,
					"aria-label": label + ": " + name,
					onclick: function (ev) {
						if (what === "release")
							release(r, note);
						else
							openDialog(r, what, ev.currentTarget);
					},
				}));
			}
			acts.appendChild(note);
			return CB.el("tr", { "data-id": r.id },
				CB.el("th", { scope: "row" }, name,
					admitted(r) ? null : " ", admitted(r) ? null : CB.el("span", { class: "badge discharged", text: "Discharged" }),
					CB.el("span", { class: "note", text: " · " + (e.ward || "—") + " · " + bed(r) })),
				stateChip(r),
				acts);
		});
	}

	/* ---- actions ------------------------------------------------------------------------- */

	function ifMatch(r) {
		return { "If-Match": '"' + r.version + '"' };
	}

	/* A server error in words. */
	function human(res) {
		if (res.status === 412)
			return "someone else changed this referral; reloaded. Check it and try again.";
		if (res.status === 0)
			return "could not reach carebridge: nothing was saved. Try again.";
		return (res.error && res.error.message) || "not saved";
	}

	async function hold(r, button) {
		button.disabled = true;
		CB.say(claimMsg, "");
		const res = await CB.api("POST", "/api/v1/referrals/" + r.id + "/hold", undefined, ifMatch(r));
		if (!res.ok) {
			CB.say(claimMsg, "Could not hold the referral of " + CB.patientName(r.patient) + ": " + human(res), "bad");
			button.disabled = false;
			await load();
		} else {
			putReferral(res.data);
			fresh.delete(r.id);
			CB.say(claimMsg, "You hold the referral of " + CB.patientName(r.patient) + ".", "ok");
			render();
		}
		if (!qBody.contains(document.activeElement))
			CB.$("queue-title").focus();
	}

	async function release(r, note) {
		const res = await CB.api("POST", "/api/v1/referrals/" + r.id + "/release", undefined, ifMatch(r));
		if (!res.ok) {
			note.className = "row-msg bad";
			note.textContent = human(res);
			if (res.status === 412)
				await load();
			return;
		}
		putReferral(res.data);
		render();
		CB.$("mine-title").focus();
	}

	/* Sending and withdrawing ask first, naming the patient and bed. */
	const dlg = CB.$("complete");
	let pending = null;         /* {r, what, opener} the dialog asks about */
	let hubs = null;            /* the hubs to choose from, where the server lists them */

	async function loadHubs() {
		if (hubs !== null)
			return;
		hubs = [];
		const res = await CB.api("GET", "/api/v1/organisations?kind=hub");
		if (res.ok && res.data && Array.isArray(res.data.items))
			hubs = res.data.items.filter(function (o) { return o.kind === "hub" && !o.disabled; });
		for (const o of hubs)
			CB.$("c-hub").appendChild(CB.el("option", { value: o.id, text: o.name }));
	}

	function fieldError(id, text) {
		CB.$(id + "-error").textContent = text || "";
		if (text)
			CB.$(id).setAttribute("aria-invalid", "true");
		else
			CB.$(id).removeAttribute("aria-invalid");
	}

	async function openDialog(r, what, opener) {
		pending = { r: r, what: what, opener: opener };
		const e = ep(r);
		const name = CB.patientName(r.patient);
		const send = what === "send";
		CB.$("complete-title").textContent = send ? "Send the referral to the hub?" : "Withdraw the referral?";
		CB.$("complete-text").textContent = send
			? "Send the referral of " + name + " (" + (e.ward || "—") + " · bed " + bed(r) + ") to " +
			  (r.organisation ? r.organisation.name : "the care transfer hub") + "? The hub sees the needs and contacts below."
			: "Withdraw the referral of " + name + " (" + (e.ward || "—") + " · bed " + bed(r) + ")? The hub is told it is no longer needed.";
		CB.$("c-send").hidden = !send;
		CB.$("c-reason-field").hidden = send;
		CB.$("c-info").hidden = !(send && r.state === "info_requested");
		CB.$("c-info").textContent = r.state === "info_requested" ? "The hub asks: " + (r.info_request || "") : "";
		CB.$("c-needs").value = r.needs || "";
		CB.$("c-contacts").value = r.contacts || "";
		CB.$("c-reason").value = "";
		CB.$("c-hub-field").hidden = !send || !!r.organisation;
		for (const f of ["c-needs", "c-reason", "c-hub"])
			fieldError(f, "");
		CB.$("complete-error").textContent = "";
		CB.$("complete-yes").textContent = send ? "Send to the hub" : "Withdraw";
		CB.$("complete-yes").disabled = false;
		dlg.showModal();
		(send ? CB.$("complete-no") : CB.$("c-reason")).focus();
		if (send && !r.organisation)
			await loadHubs();
	}

	function closeDialog() {
		const p = pending;
		pending = null;
		if (dlg.open)
			dlg.close();
		if (p && p.opener && document.contains(p.opener))
			p.opener.focus();
		else
			CB.$("mine-title").focus();
	}

	CB.$("complete-no").addEventListener("click", closeDialog);
	dlg.addEventListener("cancel", function (ev) {
		ev.preventDefault();
		closeDialog();
	});
	CB.$("complete-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		if (!pending)
			return;
		const p = pending;
		let r = referrals.get(p.r.id) || p.r;
		const name = CB.patientName(r.patient);
		const body = { step: p.what };
		if (p.what === "send") {
			const needs = CB.$("c-needs").value.trim();
			fieldError("c-needs", needs ? "" : "Describe the patient's needs: the hub cannot act without them.");
			const hub = CB.$("c-hub").value;
			const noHub = !r.organisation && !hub;
			fieldError("c-hub", noHub ? (hubs && hubs.length ? "Choose the hub." : "No hub is set up for this ward: ask the carebridge administrator.") : "");
			if (!needs || noHub)
				return;
			body.needs = needs;
			body.contacts = CB.$("c-contacts").value.trim();
			CB.$("complete-yes").disabled = true;
			if (!r.organisation) {
				const res = await CB.api("PATCH", "/api/v1/referrals/" + r.id, { organisation_id: hub }, ifMatch(r));
				if (!res.ok) {
					CB.$("complete-error").textContent = "Not sent: " + human(res);
					CB.$("complete-yes").disabled = false;
					return;
				}
				r = res.data;
				putReferral(r);
			}
		} else {
			const reason = CB.$("c-reason").value.trim();
			fieldError("c-reason", reason ? "" : "Say why it is withdrawn.");
			if (!reason)
				return;
			body.reason = reason;
			CB.$("complete-yes").disabled = true;
		}
		const res = await CB.api("POST", "/api/v1/referrals/" + r.id + "/steps", body, ifMatch(r));
		if (!res.ok) {
			CB.$("complete-error").textContent = (p.what === "send" ? "Not sent: " : "Not withdrawn: ") + human(res);
			CB.$("complete-yes").disabled = false;
			if (res.status === 412) {
				/* keep what was typed; the next try uses the version now stored */
				const again = await CB.api("GET", "/api/v1/referrals/" + r.id);
				if (again.ok) {
					putReferral(again.data);
					render();
				}
			}
			return;
		}
		putReferral(res.data);
		closeDialog();
		CB.say(claimMsg, (p.what === "send" ? "Sent the referral of " + name + " to the hub." : "Withdrew the referral of " + name + "."), "ok");
		render();
	});

	/* ---- a team lead reassigns: who takes a case over, confirmed naming everyone ---------- */
	const aDlg = CB.$("assign");
	let assigning = null;       /* {r, opener} the dialog asks about */

	async function loadWorkers() {
		const res = await CB.api("GET", "/api/v1/social-workers");
		if (res.ok && res.data && Array.isArray(res.data.items)) {
			workers = new Map(res.data.items.map(function (w) { return [w.id, w]; }));
			render();
		}
	}

	function assignButton(r, label) {
		const name = CB.patientName(r.patient);
		return CB.el("button", {
			type: "button", class: "secondary", "data-action": "assign", text: label,
			"aria-label": label + " the referral of " + name + (r.held_by ? ", held by " + person(r.held_by, r.held_by_name) : ""),
			onclick: function (ev) { openAssign(r, ev.currentTarget); },
		});
	}

	/* The confirmation, naming the patient and bed, who holds it now and who would. */
	function assignText() {
		const r = referrals.get(assigning.r.id) || assigning.r;
		const e = ep(r);
		const who = CB.$("a-user").value;
		const now = r.held_by ? (r.held_by === me.id ? "you" : person(r.held_by, r.held_by_name)) : null;
		const patient = CB.patientName(r.patient) + " (" + (e.ward || "—") + " · bed " + bed(r) + ")";
		if (!who)
			return "The referral of " + patient + (now ? " is held by " + now + "." : " is not held by anyone yet.") +
				" Choose who takes it over.";
		return "Give the referral of " + patient + (now ? " from " + now : "") + " to " +
			(who === me.id ? "yourself" : person(who)) + "?";
	}

	async function openAssign(r, opener) {
		assigning = { r: r, opener: opener };
		if (workers.size === 0)
			await loadWorkers();
		const sel = CB.$("a-user");
		while (sel.options.length > 1)
			sel.remove(1);
		const list = Array.from(workers.values()).filter(function (w) { return w.id !== r.held_by; })
			.sort(function (a, b) { return person(a.id) < person(b.id) ? -1 : 1; });
		for (const w of list)
			sel.appendChild(CB.el("option", { value: w.id, text: person(w.id) + (w.id === me.id ? " (you)" : "") }));
		sel.value = "";
		fieldError("a-user", "");
		CB.$("assign-error").textContent = "";
		CB.$("assign-text").textContent = assignText();
		CB.$("assign-yes").disabled = false;
		aDlg.showModal();
		sel.focus();
	}

	function closeAssign() {
		const a = assigning;
		assigning = null;
		if (aDlg.open)
			aDlg.close();
		if (a && a.opener && document.contains(a.opener))
			a.opener.focus();
		else
			CB.$("held-title").focus();
	}

	CB.$("a-user").addEventListener("change", function () {
		if (!assigning)
			return;
		fieldError("a-user", "");
		CB.$("assign-text").textContent = assignText();
	});
	CB.$("assign-no").addEventListener("click", closeAssign);
	aDlg.addEventListener("cancel", function (ev) {
		ev.preventDefault();
		closeAssign();
	});
	CB.$("assign-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		if (!assigning)
			return;
		const a = assigning;
		const r = referrals.get(a.r.id) || a.r;
		const who = CB.$("a-user").value;
		if (!who) {
			fieldError("a-user", "Choose who takes the referral over.");
			return;
		}
		CB.$("assign-yes").disabled = true;
		const res = await CB.api("POST", "/api/v1/referrals/" + r.id + "/assign", { user_id: who }, ifMatch(r));
		if (!res.ok) {
			CB.$("assign-error").textContent = "Not reassigned: " + human(res);
			CB.$("assign-yes").disabled = false;
			if (res.status === 412 || res.status === 409) {
				const again = await CB.api("GET", "/api/v1/referrals/" + r.id);
				if (again.ok) {
					putReferral(again.data);
					render();
					if (assigning)
						CB.$("assign-text").textContent = assignText();
				}
			}
			return;
		}
		putReferral(res.data);
		closeAssign();
		CB.say(claimMsg, "Gave the referral of " + CB.patientName(r.patient) + " to " + (who === me.id ? "yourself" : person(who)) + ".", "ok");
		render();
	});

	if (lead) {
		CB.$("held").tHead.rows[0].appendChild(CB.el("th", { scope: "col" }, CB.el("span", { class: "visually-hidden", text: "Reassign" })));
		CB.$("held-note").textContent = "Who holds each referral being completed. As team lead you can give any of them, or one nobody holds yet, to another social worker.";
	}

	/* ---- live ---------------------------------------------------------------------------- */
	function shown(episodeId) {
		for (const r of referrals.values())
			if (r.episode_id === episodeId)
				return true;
		return false;
	}

	async function loadEpisode(id) {
		const res = await CB.api("GET", "/api/v1/episodes/" + id);
		if (res.ok && res.data) {
			putEpisode(res.data);
			render();
		}
	}

	const renderSoon = CB.throttle(render, 150);
	new CB.Live(STREAM_TYPES, "", function (type, p) {
		if (!loaded)
			return;
		if (type.indexOf("referral.") === 0) {
			const r = p && p.referral;
			if (!r)
				return;
			if (type === "referral.created" && !referrals.has(r.id))
				fresh.add(r.id);
			putReferral(r);
			if (!episodes.has(r.episode_id) && r.episode && r.episode.state === "admitted")
				loadEpisode(r.episode_id);
		} else if (type.indexOf("barrier.") === 0) {
			if (shown(p.episode_id))
				loadEpisode(p.episode_id);
			return;
		} else if (shown(p.id) || type === "episode.reopened") {
			putEpisode(p);
		}
		renderSoon();
	}, load);
	/* the waiting times move on by themselves (in place: focus and rows stay put) */
	setInterval(function () {
		for (const td of document.querySelectorAll("td[data-opened]"))
			td.textContent = waiting(td.getAttribute("data-opened"));
	}, 60000);
	await load();
	if (lead)
		await loadWorkers();
})();
