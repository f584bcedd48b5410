/*
 * queue.js - the social-work queue: unclaimed Care Act assessments arriving
 * live (the newest highlighted), claimed with one click (a lost race shows
 * the server's message, which names who holds it), and "my cases" with their
 * status and next actions.
 */
"use strict";

(async function () {
	/*
	 * Every assessment event (the lists themselves), and the episode events
	 * that change what a row shows about its patient: the ward and bed
	 * (transfer, bed move) and the name (HL7 A08).  The lists hold
	 * assessments whatever their episode's state, so discharge, A11
	 * cancelling and A13 reopening change nothing here.
	 */
	const STREAM_TYPES = [
		"assessment.opened", "assessment.claimed", "assessment.released", "assessment.updated",
		"episode.transferred", "episode.updated",
	];
	const me = await CB.requireUser(["social_worker"]);
	const ACTIVE = ["claimed", "in-progress", "on-hold"];
	/* Next actions per state: [label, target state or "release"]. */
	const NEXT = {
		claimed: [["Start assessment", "in-progress"], ["Put on hold", "on-hold"], ["Complete", "completed"], ["Release", "release"]],
		"in-progress": [["Put on hold", "on-hold"], ["Complete", "completed"]],
		"on-hold": [["Resume", "in-progress"]],
	};

	let queue = [];             /* unclaimed, newest first */
	let mine = [];              /* held by me */
	const fresh = new Set();    /* ids that arrived after the first load */
	let newest = null;          /* the id of the newest arrival */
	let first = true;

	const qBody = CB.$("queue-body");
	const mBody = CB.$("mine-body");
	const claimMsg = CB.$("claim-msg");

	async function load() {
		const r = await CB.apiAll("/api/v1/assessments?state=unclaimed", 500);
		if (!r.ok) {
			CB.say(CB.$("queue-msg"), "Could not load the queue: " + r.error.message, "bad");
			return;
		}
		const known = new Set(queue.map(function (a) { return a.id; }));
		queue = r.data.items;
		if (!first) {
			for (const a of queue)
				if (!known.has(a.id))
					fresh.add(a.id);
		}
		/* the list is newest first: the first fresh one is the newest arrival */
		const top = queue.find(function (a) { return fresh.has(a.id); });
		newest = top ? top.id : null;
		first = false;
		const held = [];
		for (const s of ACTIVE) {
			const m = await CB.apiAll("/api/v1/assessments?state=" + s, 2000);
			if (m.ok)
				for (const a of m.data.items)
					if (a.claimed_by === me.id)
						held.push(a);
		}
		mine = held.sort(function (a, b) { return a.opened_at < b.opened_at ? -1 : 1; });
		render();
	}

	function render() {
		CB.clear(qBody);
		CB.$("queue-count").textContent = String(queue.length);
		CB.say(CB.$("queue-msg"), queue.length === 0 ? "No unclaimed assessments." : "", "info");
		for (const a of queue) {
			const isNew = fresh.has(a.id);
			const tr = CB.el("tr", { "data-id": a.id, class: (isNew ? "is-new" : "") + (a.id === newest ? " is-newest" : "") },
				CB.el("td", {}, CB.showTime(a.opened_at), a.id === newest ? CB.el("span", { class: "badge newest", text: " new" }) : null),
				CB.el("th", { scope: "row", text: CB.patientName(a.patient) }),
				CB.el("td", { text: a.ward + " · " + (a.bed || "—") }),
				CB.el("td", { class: "num", text: CB.daysSince(a.opened_at) + " d" }),
				CB.el("td", {}, CB.el("button", {
					type: "button", class: "claim", text: "Claim",
					"aria-label": "Claim the assessment of " + CB.patientName(a.patient),
					onclick: function (ev) { claim(a, ev.currentTarget); },
				})));
			qBody.appendChild(tr);
		}
		CB.clear(mBody);
		CB.say(CB.$("mine-msg"), mine.length === 0 ? "You hold no open assessments." : "", "info");
		for (const a of mine) {
			const acts = CB.el("td", {}, CB.el("span", { class: "actions" }));
			const note = CB.el("span", { class: "row-msg", role: "status" });
			for (const [label, to] of NEXT[a.state] || []) {
				acts.firstChild.appendChild(CB.el("button", {
					type: "button", class: "secondary", text: label,
					"aria-label": label + ": " + CB.patientName(a.patient),
					onclick: function () { move(a, to, note); },
				}));
			}
			acts.appendChild(note);
			mBody.appendChild(CB.el("tr", { "data-id": a.id },
				CB.el("th", { scope: "row" }, CB.patientName(a.patient), CB.el("span", { class: "note", text: " · " + a.ward + " · " + (a.bed || "—") })),
				CB.el("td", {}, CB.el("span", { class: "badge yes", "data-state": a.state, text: a.state })),
				acts));
		}
	}

	async function claim(a, button) {
		button.disabled = true;
		CB.say(claimMsg, "");
		const r = await CB.api("POST", "/api/v1/assessments/" + a.id + "/claim");
		if (!r.ok) {
			CB.say(claimMsg, "Could not claim " + CB.patientName(a.patient) + ": " + r.error.message, "bad");
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
			note.className = "row-msg bad";
			note.textContent = r.error.message;
			return;
		}
		await load();
	}

	/*
	 * Any assessment event may change either list; an episode event only
	 * when a listed assessment is that episode's.  The list endpoint carries
	 * the patient, ward and bed.
	 */
	function shown(episodeId) {
		return queue.some(function (a) { return a.episode_id === episodeId; }) ||
			mine.some(function (a) { return a.episode_id === episodeId; });
	}

	const reload = CB.throttle(load, 150);
	new CB.Live(STREAM_TYPES, "", function (type, p) {
		if (type.indexOf("assessment.") === 0 || shown(p.id))
			reload();
	}, load);
	await load();
})();
