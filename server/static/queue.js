/*
 * queue.js - the social-work queue: unclaimed Care Act assessments arriving
 * live (the newest highlighted), triaged (likely pathway, EDD, NCTR state,
 * primary barrier, days since admission, time waiting) and sorted longest
 * waiting first; filtered by ward and pathway (kept in the page's URL, so a
 * reload keeps them); claimed with one click (a lost race shows the server's
 * message, which names who holds it); "my cases" with their status and next
 * actions (completing asks first, naming the patient); and the cases the
 * team holds, with who holds each.
 *
 * Discharged patients: an unclaimed assessment leaves the queue when its
 * patient is discharged (an A13 reopen brings it back); a held one stays with
 * its holder, marked "Discharged" and sorted last, to be completed or
 * released.  A cancelled admission cancels its assessment, which leaves both.
 */
"use strict";

(async function () {
	/*
	 * Every assessment event (the lists themselves), and the episode and
	 * barrier events that change what a row shows about its patient: ward
	 * and bed, name, EDD and pathway (updated), readiness (ready), primary
	 * barrier, and the episode's state (discharged, reopened, cancelled).
	 */
	const STREAM_TYPES = [
		"assessment.opened", "assessment.claimed", "assessment.released", "assessment.updated",
		"episode.transferred", "episode.updated", "episode.ready", "episode.discharged",
		"episode.reopened", "episode.cancelled", "barrier.opened", "barrier.updated", "barrier.closed",
	];
	const me = await CB.requireUser(["social_worker"]);
	const ACTIVE = ["claimed", "in-progress", "on-hold"];
	/* Next actions per state: [label, target state or "release"]. */
	const NEXT = {
		claimed: [["Start assessment", "in-progress"], ["Put on hold", "on-hold"], ["Complete", "completed"], ["Release", "release"]],
		"in-progress": [["Put on hold", "on-hold"], ["Complete", "completed"]],
		"on-hold": [["Resume", "in-progress"]],
	};

	let queue = [];             /* unclaimed, of admitted patients */
	let held = [];              /* claimed, in progress or on hold, anyone's */
	const fresh = new Set();    /* ids that arrived after the first load */
	let newest = null;          /* the id of the newest arrival */
	let first = true;

	const qBody = CB.$("queue-body");
	const mBody = CB.$("mine-body");
	const hBody = CB.$("held-body");
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

	function passes(a) {
		const pw = a.episode ? a.episode.pathway : null;
		if (filter.ward && a.ward !== filter.ward)
			return false;
		if (filter.pathway === "none")
			return pw === null || pw === undefined;
		return !filter.pathway || String(pw) === filter.pathway;
	}

	/* The ward choices: every ward with a case, and the one asked for. */
	function fillWards() {
		const wards = new Set(queue.concat(held).map(function (a) { return a.ward; }));
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

	function admitted(a) {
		return !a.episode || a.episode.state === "admitted";
	}

	/* Longest waiting first: by opened_at, oldest first; discharged patients last. */
	function byWaiting(a, b) {
		if (admitted(a) !== admitted(b))
			return admitted(a) ? -1 : 1;
		if (a.opened_at !== b.opened_at)
			return a.opened_at < b.opened_at ? -1 : 1;
		return a.id < b.id ? -1 : 1;
	}

	/* Time since the assessment opened: hours on day one, then days and hours. */
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

	/* The triage cells every list of cases shares, after the waiting time. */
	function triageCells(a) {
		const e = a.episode || {};
		const gone = !admitted(a);
		return [
			CB.el("td", { class: "num", "data-col": "waiting", "data-opened": a.opened_at, text: waiting(a.opened_at) }),
			CB.el("th", { scope: "row" }, CB.patientName(a.patient),
				gone ? " " : null, gone ? CB.el("span", { class: "badge discharged", text: e.state === "cancelled" ? "Cancelled" : "Discharged" }) : null),
			CB.el("td", { "data-col": "ward", text: a.ward + " · " + (a.bed || "—") }),
			CB.el("td", { "data-col": "pathway", text: pathway(e) }),
			CB.el("td", { "data-col": "edd", text: CB.showDate(e.expected_discharge_date) }),
			CB.el("td", { "data-col": "nctr", text: nctr(e) }),
			CB.el("td", { "data-col": "barrier", text: barrier(e) }),
			CB.el("td", { class: "num", "data-col": "admitted", text: e.admitted_at ? CB.daysSince(e.admitted_at) + " d" : "—" }),
		];
	}

	function stateBadge(a) {
		return CB.el("span", { class: "badge yes", "data-state": a.state, text: CB.assessmentLabel(a.state) });
	}

	/* ---- loading ------------------------------------------------------------------------- */

	async function load() {
		const r = await CB.apiAll("/api/v1/assessments?state=unclaimed", 5000);
		if (!r.ok) {
			CB.say(CB.$("queue-msg"), CB.sentence("Could not load the queue: " + CB.plain(r.error)), "bad");
			return;
		}
		const known = new Set(queue.map(function (a) { return a.id; }));
		/* a discharged patient's unclaimed assessment leaves the queue */
		queue = r.data.items.filter(admitted).sort(byWaiting);
		if (!first) {
			for (const a of queue)
				if (!known.has(a.id))
					fresh.add(a.id);
		}
		/* the newest arrival: the fresh one opened last */
		let top = null;
		for (const a of queue)
			if (fresh.has(a.id) && (!top || a.opened_at >= top.opened_at))
				top = a;
		newest = top ? top.id : null;
		first = false;
		const all = [];
		for (const s of ACTIVE) {
			const m = await CB.apiAll("/api/v1/assessments?state=" + s, 5000);
			if (m.ok)
				all.push.apply(all, m.data.items);
		}
		held = all.sort(byWaiting);
		render();
	}

	/*
	 * Rows keyed by assessment id: a row whose case is unchanged (same sig)
	 * is kept, so focus and a row someone is about to click survive a
	 * reload; changed ones are built anew; then the body takes list's order.
	 */
	function keyed(body, list, sig, build) {
		const old = new Map();
		for (const tr of Array.from(body.children))
			old.set(tr.getAttribute("data-id"), tr);
		list.forEach(function (a, i) {
			const k = sig(a);
			let tr = old.get(a.id);
			if (!tr || tr.cbSig !== k) {
				tr = build(a);
				tr.cbSig = k;
			}
			if (body.children[i] !== tr)
				body.insertBefore(tr, body.children[i] || null);
		});
		while (body.children.length > list.length)
			body.removeChild(body.lastChild);
	}

	function render() {
		fillWards();
		const shownQueue = queue.filter(passes);
		const shownHeld = held.filter(passes);
		const hidden = queue.length - shownQueue.length + held.length - shownHeld.length;
		CB.$("filter-note").textContent = hidden > 0 ? hidden + " cases hidden by the filters." : "";

		CB.$("queue-count").textContent = String(shownQueue.length);
		CB.say(CB.$("queue-msg"), shownQueue.length === 0
			? (queue.length === 0 ? "No unclaimed assessments." : "No unclaimed assessments match the filters.") : "", "info");
		keyed(qBody, shownQueue, function (a) {
			return JSON.stringify(a) + "|" + fresh.has(a.id) + "|" + (a.id === newest);
		}, function (a) {
			const isNew = fresh.has(a.id);
			const cells = triageCells(a);
			if (a.id === newest)
				cells[1].appendChild(CB.el("span", { class: "badge newest", text: " new" }));
			const tr = CB.el("tr", { "data-id": a.id, "data-ward": a.ward, class: (isNew ? "is-new" : "") + (a.id === newest ? " is-newest" : "") });
			for (const c of cells)
				tr.appendChild(c);
			tr.appendChild(CB.el("td", {}, CB.el("button", {
				type: "button", class: "claim", text: "Claim",
				"aria-label": "Claim the assessment of " + CB.patientName(a.patient),
				onclick: function (ev) { claim(a, ev.currentTarget); },
			})));
			return tr;
		});

		CB.$("held-count").textContent = String(shownHeld.length);
		CB.say(CB.$("held-msg"), shownHeld.length === 0 ? "No case is held by the team." : "", "info");
		keyed(hBody, shownHeld, function (a) { return JSON.stringify(a); }, function (a) {
			const tr = CB.el("tr", { "data-id": a.id, "data-ward": a.ward });
			for (const c of triageCells(a))
				tr.appendChild(c);
			tr.appendChild(CB.el("td", {}, stateBadge(a)));
			tr.appendChild(CB.el("td", { "data-col": "holder", text: a.claimed_by === me.id ? "You" : (a.claimed_by_name || "—") }));
			if (me.team_lead) {
				tr.appendChild(CB.el("td", {}, CB.el("button", {
					type: "button", class: "secondary reassign", text: "Reassign",
					"aria-label": "Reassign the assessment of " + CB.patientName(a.patient) + ", held by " +
						(a.claimed_by === me.id ? "you" : a.claimed_by_name || "nobody"),
					onclick: function (ev) { openReassign(a, ev.currentTarget); },
				})));
			}
			return tr;
		});

		const mine = held.filter(function (a) { return a.claimed_by === me.id; });
		CB.clear(mBody);
		CB.say(CB.$("mine-msg"), mine.length === 0 ? "You hold no open assessments." : "", "info");
		for (const a of mine) {
			const acts = CB.el("td", {}, CB.el("span", { class: "actions" }));
			const note = CB.el("span", { class: "row-msg", role: "status" });
			for (const [label, to] of NEXT[a.state] || []) {
				acts.firstChild.appendChild(CB.el("button", {
					type: "button", class: "secondary", text: label,
					"aria-label": label + ": " + CB.patientName(a.patient),
					onclick: function () {
						if (to === "completed")
							confirmComplete(a, note);
						else
							move(a, to, note);
					},
				}));
			}
			acts.appendChild(note);
			mBody.appendChild(CB.el("tr", { "data-id": a.id },
				CB.el("th", { scope: "row" }, CB.patientName(a.patient),
					admitted(a) ? null : " ", admitted(a) ? null : CB.el("span", { class: "badge discharged", text: "Discharged" }),
					CB.el("span", { class: "note", text: " · " + a.ward + " · " + (a.bed || "—") })),
				CB.el("td", {}, stateBadge(a)),
				acts));
		}
	}

	/* ---- actions ------------------------------------------------------------------------- */

	async function claim(a, button) {
		button.disabled = true;
		CB.say(claimMsg, "");
		const r = await CB.api("POST", "/api/v1/assessments/" + a.id + "/claim");
		if (!r.ok) {
			CB.sayFailed(claimMsg, "Could not claim " + CB.patientName(a.patient), r.error, function () { claim(a, button); });
			claimMsg.className = "message bad";
			button.disabled = false;
		} else {
			CB.say(claimMsg, "You hold the assessment of " + CB.patientName(a.patient) + ".", "ok");
			fresh.delete(a.id);
		}
		await load();
		const heading = CB.$("queue-title");
		if (!qBody.contains(document.activeElement))
			heading.focus();
	}

	async function move(a, to, note) {
		const r = to === "release"
			? await CB.api("POST", "/api/v1/assessments/" + a.id + "/release")
			: await CB.api("PATCH", "/api/v1/assessments/" + a.id, { state: to }, { "If-Match": '"' + a.version + '"' });
		if (!r.ok) {
			CB.sayFailed(note, "", r.error, function () { move(a, to, note); });
			note.className = "row-msg bad";
			return false;
		}
		await load();
		return true;
	}

	/* ---- a team lead gives a case to another social worker ---------------------------- */
	const rdlg = CB.$("reassign");
	let reassigning = null;     /* {a, back} */

	if (me.team_lead) {
		const head = CB.$("held").querySelector("thead tr");
		head.appendChild(CB.el("th", { scope: "col" }, CB.el("span", { class: "visually-hidden", text: "Reassign" })));
	}

	function openReassign(a, back) {
		reassigning = { a: a, back: back };
		CB.$("ra-error").textContent = "";
		CB.$("ra-to").value = "";
		CB.$("reassign-text").textContent = "Who should take the assessment of " + CB.patientName(a.patient) +
			" (ward " + a.ward + ", bed " + (a.bed || "none") + ")? " +
			(a.claimed_by ? "It is held by " + (a.claimed_by === me.id ? "you" : a.claimed_by_name) + " now." : "Nobody holds it now.");
		const names = CB.$("ra-names");
		CB.clear(names);
		const seen = new Set([me.name]);
		for (const h of held)
			if (h.claimed_by_name)
				seen.add(h.claimed_by_name);
		for (const n of Array.from(seen).sort())
			names.appendChild(CB.el("option", { value: n }));
		rdlg.showModal();
		CB.$("ra-to").focus();
	}

	CB.$("ra-no").addEventListener("click", function () { rdlg.close(); });
	rdlg.addEventListener("close", function () {
		const d = reassigning;
		reassigning = null;
		if (d && d.back && d.back.isConnected)
			d.back.focus();
		else
			CB.$("held-title").focus();
	});
	CB.$("reassign-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const d = reassigning;
		if (!d)
			return;
		const to = CB.$("ra-to").value.trim();
		if (!to) {
			CB.$("ra-error").textContent = "Enter the user name of the social worker who takes the case.";
			return;
		}
		const button = CB.$("ra-yes");
		button.disabled = true;
		const r = await CB.api("POST", "/api/v1/assessments/" + d.a.id + "/reassign", { to: to }, { "If-Match": '"' + d.a.version + '"' });
		button.disabled = false;
		if (reassigning !== d)
			return;
		if (!r.ok) {
			if (r.error.code === "network")
				CB.sayFailed(CB.$("ra-error"), "", r.error, function () { CB.$("reassign-form").requestSubmit(); });
			else
				CB.$("ra-error").textContent = r.status === 412
					? "Someone changed this case while this was open: close this and check the list."
					: CB.sentence(CB.plain(r.error));
			return;
		}
		CB.say(claimMsg, "The assessment of " + CB.patientName(d.a.patient) + " is now held by " + (r.data.claimed_by_name || to) + ".", "ok");
		rdlg.close();
		await load();
	});

	/* Completing closes the case for good: ask first, naming the patient and bed. */
	const dlg = CB.$("complete");
	let pending = null;         /* {a, note} the dialog asks about */

	function confirmComplete(a, note) {
		pending = { a: a, note: note, opener: document.activeElement };
		CB.$("complete-text").textContent = "Complete the Care Act assessment of " + CB.patientName(a.patient) +
			" (" + a.ward + " · bed " + (a.bed || "—") + ")? It leaves your cases.";
		CB.$("complete-error").textContent = "";
		CB.$("complete-yes").disabled = false;
		dlg.showModal();
		CB.$("complete-no").focus();
	}

	function closeComplete() {
		const p = pending;
		pending = null;
		if (dlg.open)
			dlg.close();
		if (p && p.opener && document.contains(p.opener))
			p.opener.focus();
		else
			CB.$("mine-title").focus();
	}

	CB.$("complete-no").addEventListener("click", closeComplete);
	dlg.addEventListener("cancel", function (ev) {
		ev.preventDefault();
		closeComplete();
	});
	CB.$("complete-yes").addEventListener("click", async function () {
		if (!pending)
			return;
		const p = pending;
		CB.$("complete-yes").disabled = true;
		const r = await CB.api("PATCH", "/api/v1/assessments/" + p.a.id, { state: "completed" }, { "If-Match": '"' + p.a.version + '"' });
		if (!r.ok) {
			CB.$("complete-error").textContent = CB.sentence("Not completed: " + CB.plain(r.error));
			CB.$("complete-yes").disabled = false;
			return;
		}
		closeComplete();
		CB.say(claimMsg, "Completed the assessment of " + CB.patientName(p.a.patient) + ".", "ok");
		await load();
	});

	/*
	 * Any assessment event may change the lists; an episode or barrier event
	 * only when a listed assessment is that episode's (a reopened episode's
	 * assessment is not listed while discharged: reopening always reloads).
	 */
	function shown(episodeId) {
		return queue.some(function (a) { return a.episode_id === episodeId; }) ||
			held.some(function (a) { return a.episode_id === episodeId; });
	}

	const reload = CB.throttle(load, 150);
	new CB.Live(STREAM_TYPES, "", function (type, p) {
		if (type.indexOf("assessment.") === 0 || type === "episode.reopened" ||
		    shown(type.indexOf("barrier.") === 0 ? p.episode_id : p.id))
			reload();
	}, load);
	/* the waiting times move on by themselves (in place: focus and rows stay put) */
	setInterval(function () {
		for (const td of document.querySelectorAll("td[data-opened]"))
			td.textContent = waiting(td.getAttribute("data-opened"));
	}, 60000);
	await load();
})();
