/*
 * hub.js - the care transfer hub's screen (issue 15), for hub coordinators,
 * council social workers and provider staff: the referrals of my
 * organisation by state (day-one notices, new, information requested,
 * accepted, service found, start confirmed; declined and recently closed),
 * each with its age (since referred, since the last step), the patient
 * essentials the referral needs (name, NHS number, date of birth, ward,
 * likely pathway, EDD, discharge ready date, needs, contacts) and the steps
 * its state allows: accept, ask for information, decline with a reason,
 * record the service sourced, confirm the start date.  Provider staff only
 * confirm the start.  Live from /api/v1/stream; the server sends a partner
 * only the events of referrals to their organisation.
 *
 * Every step is sent with If-Match: when someone else changed the referral
 * first (412) the page reloads it and says so, and nothing is lost but the
 * click.  The page shows only what GET /api/v1/referrals gives this user:
 * the server decides which referrals those are, never the page.
 */
"use strict";

(async function () {
	/* the referral events (docs/API.md "Event types"): a new referral, any step */
	const STREAM_TYPES = ["referral.created", "referral.updated"];
	const me = await CB.requireUser(["hub_coordinator", "council_social_worker", "provider_staff"]);
	const provider = me.role === "provider_staff";
	const ROLE_NAMES = {
		hub_coordinator: "hub coordinator",
		council_social_worker: "council social worker",
		provider_staff: "provider staff",
	};
	CB.$("who").textContent = me.name + " (" + (ROLE_NAMES[me.role] || me.role) + ")";

	/* Closed referrals stay on the screen this long (declined ones while open). */
	const CLOSED_DAYS = 7;

	/*
	 * The lanes, in the order a referral moves through them.  A provider's
	 * staff see the ones a service is in.
	 */
	const LANES = [
		{ key: "notified", title: "Day-one notices (not sent yet)", states: ["notified"] },
		{ key: "referred", title: "New referrals", states: ["referred"] },
		{ key: "info_requested", title: "Information requested", states: ["info_requested"] },
		{ key: "accepted", title: "Accepted", states: ["accepted"] },
		{ key: "sourced", title: "Service found", states: ["sourced"] },
		{ key: "start_confirmed", title: "Start confirmed", states: ["start_confirmed"] },
		{ key: "closed", title: "Declined and recently closed", states: ["declined", "completed", "withdrawn"] },
	];

	/* The steps each state offers: [step, button label]. */
	const ACTIONS = provider ? {
		sourced: [["confirm_start", "Confirm start date"]],
	} : {
		referred: [["accept", "Accept"], ["request_info", "Ask for information"], ["decline", "Decline"]],
		info_requested: [["accept", "Accept"], ["decline", "Decline"]],
		accepted: [["source", "Record service sourced"]],
		sourced: [["confirm_start", "Confirm start date"], ["source", "Change the service"]],
		start_confirmed: [["source", "Change the service"]],
	};

	const referrals = new Map(); /* id -> cb_referral_view_json */
	const fresh = new Set();     /* ids that arrived live, after the first load */
	const cards = new Map();     /* id -> {el, sig} */
	let loaded = false;
	let orgName = "";

	const lanesEl = CB.$("lanes");
	const actMsg = CB.$("act-msg");
	const laneEls = new Map();   /* key -> {section, list, count, empty} */

	for (const lane of LANES) {
		const id = "lane-" + lane.key;
		const count = CB.el("span", { class: "badge no", id: id + "-count", text: "0" });
		const empty = CB.el("p", { class: "note", text: "None." });
		const list = CB.el("div", { class: "ref-list", id: id + "-list" });
		const section = CB.el("section", { class: "panel lane", id: id, "data-lane": lane.key, "aria-labelledby": id + "-title" },
			CB.el("h2", { id: id + "-title" }, lane.title + " ", count), empty, list);
		lanesEl.appendChild(section);
		laneEls.set(lane.key, { section: section, list: list, count: count, empty: empty });
	}

	/* ---- the organisation's name in the header ------------------------------------------- */
	function myOrg() {
		const o = me.organisation;
		return typeof o === "string" ? o : o && o.id ? o.id : me.organisation_id || "";
	}

	function showOrg(name) {
		if (!name || name === orgName)
			return;
		orgName = name;
		CB.$("org-name").textContent = name;
		document.title = name + " — carebridge";
	}

	if (me.organisation && typeof me.organisation === "object" && me.organisation.name)
		showOrg(me.organisation.name);
	else if (me.organisation_name)
		showOrg(me.organisation_name);
	else if (myOrg()) {
		CB.api("GET", "/api/v1/organisations/" + encodeURIComponent(myOrg())).then(function (r) {
			if (r.ok && r.data && r.data.name)
				showOrg(r.data.name);
		});
	}

	/* Failing all else, the name on a referral to this organisation. */
	function orgFromReferral(r) {
		if (orgName)
			return;
		const id = myOrg();
		for (const o of [r.organisation, r.service && r.service.provider])
			if (o && o.name && (!id || o.id === id) && (!provider || o === (r.service && r.service.provider)))
				return showOrg(o.name);
	}

	/* ---- what a card shows --------------------------------------------------------------- */
	function laneOf(r) {
		for (const lane of LANES)
			if (lane.states.indexOf(r.state) >= 0)
				return lane.key;
		return null;
	}

	/* Closed more than CLOSED_DAYS ago: off the screen. */
	function shown(r) {
		if (!laneOf(r))
			return false;
		if (r.closed_at && Date.now() - Date.parse(r.closed_at) > CLOSED_DAYS * 86400000)
			return false;
		return true;
	}

	/* The time a referral has waited in its lane: since referred (or notified). */
	function since(r) {
		return r.referred_at || r.notified_at;
	}

	function ago(iso) {
		if (!iso)
			return "—";
		const m = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
		if (m < 60)
			return m + " min";
		const h = Math.floor(m / 60);
		return h < 24 ? h + " h" : Math.floor(h / 24) + " d " + (h % 24) + " h";
	}

	function ageText(r) {
		const first = r.referred_at ? "Referred " + ago(r.referred_at) + " ago" : "Notified " + ago(r.notified_at) + " ago";
		return first + " · last step " + ago(r.updated_at) + " ago";
	}

	function pathwayText(e) {
		return !e || e.pathway === null || e.pathway === undefined ? "Not decided" : "Pathway " + e.pathway;
	}

	function fact(dl, label, value, col) {
		if (value === null || value === undefined || value === "")
			return;
		dl.appendChild(CB.el("dt", { text: label }));
		dl.appendChild(CB.el("dd", { "data-col": col, text: value }));
	}

	function serviceText(s) {
		if (!s)
			return "";
		return (CB.SERVICE_KINDS[s.kind] || s.kind) + (s.provider ? ", " + s.provider.name : "") +
			(s.detail ? ", " + s.detail : "") + (s.start_date ? ", from " + CB.showDate(s.start_date) : "");
	}

	function buildCard(r) {
		const p = r.patient || {};
		const e = r.episode || {};
		const name = CB.patientName(p);
		const dl = CB.el("dl", { class: "facts" });
		fact(dl, "NHS number", CB.nhsShow(p.nhs_number), "nhs");
		fact(dl, "Date of birth", p.birth_date ? CB.showDate(p.birth_date) + " " + p.birth_date.slice(0, 4) : "—", "dob");
		fact(dl, "Ward", (e.ward_name && e.ward_name !== e.ward ? e.ward_name + " (" + e.ward + ")" : e.ward) || "—", "ward");
		fact(dl, "Likely pathway", pathwayText(e), "pathway");
		fact(dl, "Expected discharge", CB.showDate(e.expected_discharge_date), "edd");
		fact(dl, "Discharge ready", e.ready_at ? "Since " + CB.showTime(e.ready_at) + " (no criteria to reside)" : "Not yet", "nctr");
		if (e.state && e.state !== "admitted")
			fact(dl, "Patient", e.state === "discharged" ? "Discharged " + CB.showTime(e.discharged_at) : "Admission cancelled", "episode");
		fact(dl, "Needs", r.needs || "—", "needs");
		fact(dl, "Contacts", r.contacts || "—", "contacts");
		if (r.state === "info_requested" || (r.info_request && r.state === "referred"))
			fact(dl, "Information asked for", r.info_request, "info_request");
		if (r.state === "declined")
			fact(dl, "Declined because", r.decline_reason, "decline_reason");
		fact(dl, "Service", serviceText(r.service), "service");
		if (r.state === "withdrawn")
			fact(dl, "Withdrawn because", r.withdraw_reason, "withdraw_reason");

		const acts = CB.el("div", { class: "actions" });
		for (const [step, label] of ACTIONS[r.state] || []) {
			acts.appendChild(CB.el("button", {
				type: "button", class: step === "accept" ? "" : "secondary", "data-step": step, text: label,
				"aria-label": label + ": " + name,
				onclick: function (ev) { act(r.id, step, ev.currentTarget); },
			}));
		}
		const isNew = fresh.has(r.id);
		return CB.el("article", {
			class: "ref-card" + (isNew ? " is-new" : ""), "data-id": r.id, "data-state": r.state,
			"data-episode": r.episode_id, "aria-labelledby": "rc-" + r.id,
		},
		CB.el("h3", { id: "rc-" + r.id }, name, " ", CB.referralChipEl(r),
			isNew ? CB.el("span", { class: "badge newest", text: " new" }) : null),
		CB.el("p", { class: "note age", "data-col": "age", "data-since": since(r), "data-updated": r.updated_at, text: ageText(r) }),
		dl, acts.children.length ? acts : null);
	}

	/* ---- rendering: a keyed card per referral, rebuilt only when it changed -------------- */
	function render() {
		const by = new Map();
		for (const lane of LANES)
			by.set(lane.key, []);
		for (const r of referrals.values())
			if (shown(r))
				by.get(laneOf(r)).push(r);
		const keep = new Set();
		for (const lane of LANES) {
			const list = by.get(lane.key).sort(function (a, b) {
				const x = since(a), y = since(b);
				return x !== y ? (x < y ? -1 : 1) : (a.id < b.id ? -1 : 1);
			});
			const le = laneEls.get(lane.key);
			le.count.textContent = String(list.length);
			le.empty.hidden = list.length > 0;
			list.forEach(function (r, i) {
				keep.add(r.id);
				const sig = r.version + "|" + fresh.has(r.id) + "|" + JSON.stringify(r.episode) + "|" + JSON.stringify(r.patient);
				let c = cards.get(r.id);
				if (!c || c.sig !== sig) {
					const focused = c && c.el.contains(document.activeElement) ? document.activeElement.getAttribute("data-step") : null;
					const el = buildCard(r);
					if (c)
						c.el.remove();
					c = { el: el, sig: sig };
					cards.set(r.id, c);
					if (focused) {
						const b = el.querySelector("button[data-step='" + focused + "']");
						setTimeout(function () { (b || el).focus(); }, 0);
					}
				}
				if (le.list.children[i] !== c.el)
					le.list.insertBefore(c.el, le.list.children[i] || null);
			});
		}
		for (const [id, c] of cards)
			if (!keep.has(id)) {
				c.el.remove();
				cards.delete(id);
			}
		CB.say(CB.$("hub-msg"), loaded && keep.size === 0 ? "No referrals to your organisation." : "", "info");
	}

	/* ---- loading ------------------------------------------------------------------------- */

	/* Every referral of a list query, page after page (next_cursor). */
	async function fetchAll(query) {
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

	function put(r) {
		const old = referrals.get(r.id);
		if (old && old.version > r.version)
			return false;
		referrals.set(r.id, r);
		orgFromReferral(r);
		return true;
	}

	async function load() {
		const [open, closed] = await Promise.all([fetchAll("open=true"), fetchAll("open=false")]);
		if (!open.ok) {
			CB.say(CB.$("hub-msg"), "Could not load the referrals: " + open.error.message, "bad");
			return;
		}
		referrals.clear();
		for (const r of open.items.concat(closed.ok ? closed.items : []))
			put(r);
		loaded = true;
		render();
		document.body.setAttribute("data-loaded", "true");
	}

	async function reloadOne(id) {
		const r = await CB.api("GET", "/api/v1/referrals/" + id);
		if (r.ok && r.data) {
			put(r.data);
		} else if (r.status === 404 || r.status === 403) {
			/* no longer referred to us */
			referrals.delete(id);
		}
		render();
	}

	/* ---- steps --------------------------------------------------------------------------- */
	const FIELD_NAMES = {
		reason: "the reason", info_request: "what you need to know", service_kind: "the service",
		start_date: "the start date", service_detail: "the detail", service_provider_id: "the provider",
		state: "the referral's state",
	};

	/* A server error in words (no JSON field names). */
	function human(res) {
		if (res.status === 412)
			return "Someone else changed this referral; reloaded. Check it and try again.";
		if (res.status === 0)
			return "Could not reach carebridge: nothing was saved. Try again.";
		if (res.status === 403 || res.status === 404)
			return "This referral is no longer yours to change.";
		if (res.status === 409)
			return "This referral has moved on since it was shown; reloaded.";
		const e = res.error || {};
		if (e.field && FIELD_NAMES[e.field])
			return "Check " + FIELD_NAMES[e.field] + ": " + String(e.message || "").replace(/"[a-z_]+"/g, "").replace(/\s+/g, " ").trim();
		return e.message || "The step was not saved.";
	}

	async function send(r, step, body) {
		body.step = step;
		return CB.api("POST", "/api/v1/referrals/" + r.id + "/steps", body, { "If-Match": '"' + r.version + '"' });
	}

	const DONE = {
		accept: "Accepted", request_info: "Asked for information about", decline: "Declined",
		source: "Recorded the service for", confirm_start: "Confirmed the start date of",
	};

	async function after(r, step, res) {
		if (res.ok) {
			put(res.data);
			fresh.delete(r.id);
			render();
			CB.say(actMsg, DONE[step] + " " + CB.patientName(r.patient) + ".", "ok");
			return true;
		}
		if (res.status === 412 || res.status === 409 || res.status === 403 || res.status === 404)
			await reloadOne(r.id);
		return false;
	}

	async function act(id, step, button) {
		const r = referrals.get(id);
		if (!r)
			return;
		CB.say(actMsg, "");
		if (step === "accept") {
			button.disabled = true;
			const res = await send(r, step, {});
			if (!(await after(r, step, res))) {
				CB.say(actMsg, "Not accepted (" + CB.patientName(r.patient) + "): " + human(res), "bad");
				button.disabled = false;
			}
			return;
		}
		openStep(r, step, button);
	}

	/* The dialog for the steps that need details. */
	const dlg = CB.$("step");
	let pending = null; /* {id, step, opener} */

	const KINDS = CB.$("sf-kind");
	for (const k in CB.SERVICE_KINDS)
		KINDS.appendChild(CB.el("option", { value: k, text: CB.SERVICE_KINDS[k] }));
	/* the providers to choose from, where this server lists them */
	if (!provider) {
		CB.api("GET", "/api/v1/organisations?kind=provider").then(function (r) {
			if (!r.ok || !r.data || !Array.isArray(r.data.items))
				return;
			for (const o of r.data.items)
				if (o.kind === "provider" && !o.disabled)
					CB.$("sf-provider").appendChild(CB.el("option", { value: o.id, text: o.name }));
		});
	}

	const TITLES = {
		request_info: ["Ask for information", "Send the question"],
		decline: ["Decline the referral", "Decline"],
		source: ["Record the service sourced", "Save the service"],
		confirm_start: ["Confirm the start date", "Confirm start"],
	};

	function fieldError(id, text) {
		CB.$(id + "-error").textContent = text || "";
		if (text)
			CB.$(id).setAttribute("aria-invalid", "true");
		else
			CB.$(id).removeAttribute("aria-invalid");
	}

	function openStep(r, step, opener) {
		pending = { id: r.id, step: step, opener: opener };
		const e = r.episode || {};
		CB.$("step-title").textContent = TITLES[step][0];
		CB.$("step-yes").textContent = TITLES[step][1];
		CB.$("step-text").textContent = CB.patientName(r.patient) + ", NHS number " + CB.nhsShow(r.patient && r.patient.nhs_number) +
			", ward " + (e.ward || "—") + ".";
		const text = step === "request_info" || step === "decline";
		CB.$("sf-text-field").hidden = !text;
		CB.$("sf-text-label").textContent = step === "request_info" ? "What do you need to know? *" : "Why is it declined? *";
		CB.$("sf-service").hidden = step !== "source";
		CB.$("sf-date-field").hidden = step !== "source" && step !== "confirm_start";
		CB.$("sf-date-label").textContent = step === "source" ? "Proposed start date *" : "Confirmed start date *";
		CB.$("sf-text").value = "";
		const s = r.service || {};
		KINDS.value = step === "source" ? s.kind || "" : "";
		CB.$("sf-provider").value = s.provider && Array.from(CB.$("sf-provider").options).some(function (o) { return o.value === s.provider.id; }) ? s.provider.id : "";
		CB.$("sf-detail").value = step === "source" ? s.detail || "" : "";
		CB.$("sf-date").value = s.start_date || "";
		CB.$("sf-date").min = CB.londonDate();
		for (const f of ["sf-text", "sf-kind", "sf-date"])
			fieldError(f, "");
		CB.$("step-error").textContent = "";
		CB.$("step-yes").disabled = false;
		dlg.showModal();
		(text ? CB.$("sf-text") : step === "source" ? KINDS : CB.$("sf-date")).focus();
	}

	function closeStep() {
		const p = pending;
		pending = null;
		if (dlg.open)
			dlg.close();
		const card = p && cards.get(p.id);
		if (p && p.opener && document.contains(p.opener))
			p.opener.focus();
		else if (card) {
			const h = card.el.querySelector("h3");
			h.setAttribute("tabindex", "-1");
			h.focus();
		} else
			CB.$("hub-title").focus();
	}

	CB.$("step-no").addEventListener("click", closeStep);
	dlg.addEventListener("cancel", function (ev) {
		ev.preventDefault();
		closeStep();
	});
	CB.$("step-form").addEventListener("submit", async function (ev) {
		ev.preventDefault();
		if (!pending)
			return;
		const p = pending;
		const r = referrals.get(p.id);
		if (!r)
			return closeStep();
		const body = {};
		let ok = true;
		if (p.step === "request_info" || p.step === "decline") {
			const t = CB.$("sf-text").value.trim();
			fieldError("sf-text", t ? "" : p.step === "decline" ? "Say why it is declined." : "Say what you need to know.");
			ok = ok && !!t;
			body[p.step === "decline" ? "reason" : "info_request"] = t;
		}
		if (p.step === "source") {
			fieldError("sf-kind", KINDS.value ? "" : "Choose the service.");
			ok = ok && !!KINDS.value;
			body.service_kind = KINDS.value;
			if (CB.$("sf-provider").value)
				body.service_provider_id = CB.$("sf-provider").value;
			if (CB.$("sf-detail").value.trim())
				body.service_detail = CB.$("sf-detail").value.trim();
		}
		if (p.step === "source" || p.step === "confirm_start") {
			const d = CB.$("sf-date").value;
			const bad = !d ? "Give the start date." : d < CB.londonDate() ? "The start date cannot be in the past." : "";
			fieldError("sf-date", bad);
			ok = ok && !bad;
			body.start_date = d;
		}
		if (!ok)
			return;
		CB.$("step-yes").disabled = true;
		const res = await send(r, p.step, body);
		if (await after(r, p.step, res)) {
			closeStep();
			return;
		}
		CB.$("step-yes").disabled = false;
		CB.$("step-error").textContent = "Not saved: " + human(res);
		if (res.status === 412 || res.status === 409 || res.status === 403 || res.status === 404) {
			/* the dialog would act on an old version: close it, say why beside the card */
			closeStep();
			CB.say(actMsg, CB.patientName(r.patient) + ": " + human(res), "bad");
		}
	});

	/* ---- live ---------------------------------------------------------------------------- */
	function onEvent(type, p) {
		const r = p && p.referral;
		if (!r || !r.id)
			return;
		const known = referrals.has(r.id);
		if (!put(r))
			return;
		if (loaded && !known && shown(r)) {
			fresh.add(r.id);
			CB.$("hub-news").textContent = "New referral: " + CB.patientName(r.patient);
		} else if (loaded && known && r.state === "referred" && p.step === "send") {
			fresh.add(r.id); /* sent again, with the information asked for */
			CB.$("hub-news").textContent = "Referral sent again: " + CB.patientName(r.patient);
		}
		render();
	}

	new CB.Live(STREAM_TYPES, "", onEvent, load);
	/* the ages move on by themselves (in place: focus and cards stay put) */
	setInterval(function () {
		for (const p of document.querySelectorAll("p.age[data-since]")) {
			const r = referrals.get(p.parentNode.getAttribute("data-id"));
			if (r)
				p.textContent = ageText(r);
		}
	}, 60000);
	await load();
})();
