/*
 * print.js - the board-round sheet (issue 16): one A4 page per ward of
 * patients, their criteria-to-reside state, open barriers and the tasks due,
 * with the time it was printed, for the handover when the network is down.
 *
 * "Print board-round sheet" on the ward board builds the sheet from the API
 * and opens the browser's print; /ward?print=1 shows the same sheet on screen
 * (the ward board's page, with the board itself hidden).  The sheet is a
 * snapshot: it says when it was printed and never updates itself.  Apart from
 * the ward chosen on the board (#ward-select), nothing here reads or changes
 * ward.js's state.
 */
"use strict";

(function () {
	const params = new URLSearchParams(location.search);
	const view = params.get("print") === "1";
	let me = null;

	async function user() {
		if (!me) {
			const r = await CB.api("GET", "/api/v1/me");
			me = r.ok ? r.data : null;
		}
		return me;
	}

	/* The ward the board shows: the one chosen on the page, else ?ward=, else the user's first. */
	async function currentWard() {
		const sel = CB.$("ward-select");
		if (sel && !CB.$("ward-pick").hidden && sel.value)
			return sel.value;
		if (params.get("ward"))
			return params.get("ward");
		const u = await user();
		return u && u.wards && u.wards.length ? u.wards[0] : "";
	}

	const STATUS = {
		requested: "requested", accepted: "accepted", "in-progress": "in progress",
		"on-hold": "on hold", completed: "completed", cancelled: "cancelled",
	};

	const bedCollator = new Intl.Collator("en-GB", { numeric: true, sensitivity: "base" });

	function nctrCell(ep) {
		const td = CB.el("td", { "data-col": "nctr" });
		td.appendChild(CB.el("strong", { text: ep.ready ? "NCTR" : "Meets criteria" }));
		if (ep.ready)
			td.appendChild(CB.el("span", { class: "line", text: "since " + CB.showTime(ep.ready_at) }));
		if (ep.delay && !ep.delay.closed_at) {
			const n = CB.delayDays(ep.delay);
			td.appendChild(CB.el("span", { class: "line", text: "delayed " + n + (n === 1 ? " day" : " days") }));
		}
		if (ep.review_overdue)
			td.appendChild(CB.el("span", { class: "line", text: "not reviewed since the last round" }));
		return td;
	}

	function barriersCell(list) {
		const td = CB.el("td", { "data-col": "barriers" });
		if (!list.length) {
			td.textContent = "—";
			return td;
		}
		for (const b of list)
			td.appendChild(CB.el("span", { class: "line" },
				(b.primary ? "★ " : "") + (b.reason_label || b.reason) + (b.owner ? " · " + b.owner : "")));
		return td;
	}

	function tasksCell(list) {
		const td = CB.el("td", { "data-col": "tasks" });
		if (!list.length) {
			td.textContent = "—";
			return td;
		}
		for (const t of list)
			td.appendChild(CB.el("span", { class: "line" + (t.overdue ? " overdue" : "") },
				(CB.DISCIPLINES[t.discipline] || t.discipline) + ": " + t.title + " — " + (STATUS[t.status] || t.status) +
				(t.due_at ? ", due " + CB.showTime(t.due_at) : "") + (t.overdue ? " (OVERDUE)" : "")));
		return td;
	}

	/* Read the ward's patients, open tasks and open barriers; build the sheet.  True when built. */
	async function build() {
		const status = CB.$("print-status");
		const ward = await currentWard();
		const u = await user();
		const q = ward ? "?ward=" + encodeURIComponent(ward) : "";
		CB.say(status, "Preparing the sheet…", "info");
		const eps = await CB.apiAll("/api/v1/episodes" + q);
		const tasks = await CB.apiAll("/api/v1/tasks?status=open" + (ward ? "&ward=" + encodeURIComponent(ward) : ""));
		if (!eps.ok || !tasks.ok) {
			CB.say(status, "Could not prepare the sheet: " + (eps.ok ? tasks : eps).error.message + ". Nothing was printed.", "bad");
			return false;
		}
		const list = eps.data.items.filter(function (e) { return e.state === "admitted"; });
		list.sort(function (a, b) {
			return a.ward !== b.ward ? (a.ward < b.ward ? -1 : 1) : bedCollator.compare(a.bed || "", b.bed || "");
		});
		const byEpisode = new Map();
		for (const t of tasks.data.items) {
			if (!byEpisode.has(t.episode_id))
				byEpisode.set(t.episode_id, []);
			byEpisode.get(t.episode_id).push(t);
		}
		/* every open barrier of the patients that have one (the list carries only the primary) */
		const barriers = new Map();
		await CB.pool(list.filter(function (e) { return e.primary_barrier; }), 4, async function (e) {
			const r = await CB.api("GET", "/api/v1/episodes/" + e.id + "/barriers");
			const open = r.ok && r.data ? (r.data.items || []).filter(function (b) { return b.open !== false && !b.closed_at; }) : [];
			barriers.set(e.id, open.length ? open : [Object.assign({ primary: true }, e.primary_barrier)]);
		});

		const body = CB.$("ps-body");
		CB.clear(body);
		for (const e of list) {
			const due = (byEpisode.get(e.id) || []).sort(function (a, b) {
				return (a.due_at || "~") < (b.due_at || "~") ? -1 : 1;
			});
			body.appendChild(CB.el("tr", { "data-id": e.id },
				CB.el("td", { "data-col": "bed", text: (ward ? "" : e.ward + " · ") + (e.bed || "—") }),
				CB.el("th", { scope: "row" }, CB.patientName(e.patient),
					e.patient && e.patient.nhs_number ? CB.el("span", { class: "line", text: "NHS " + CB.nhsShow(e.patient.nhs_number) }) : null),
				CB.el("td", { class: "num", text: String(CB.daysSince(e.admitted_at)) }),
				CB.el("td", {}, CB.showDate(e.expected_discharge_date),
					CB.el("span", { class: "line", text: "pathway " + (e.pathway === null || e.pathway === undefined ? "—" : e.pathway) })),
				nctrCell(e),
				barriersCell(barriers.get(e.id) || []),
				tasksCell(due),
				CB.el("td", { class: "write-in" })));
		}
		const now = new Date();
		CB.$("ps-ward").textContent = ward ? "ward " + ward : "every ward";
		const stamp = CB.$("ps-printed");
		stamp.setAttribute("datetime", now.toISOString());
		stamp.textContent = CB.showDate(CB.londonDate(now)) + " " + now.getFullYear() + ", " +
			new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" }).format(now);
		CB.$("ps-by").textContent = u ? u.name : "";
		CB.$("ps-count").textContent = list.length + (list.length === 1 ? " patient" : " patients");
		CB.$("ps-empty").hidden = list.length > 0;
		CB.$("print-sheet").hidden = false;
		document.body.setAttribute("data-sheet", "ready");
		CB.say(status, "");
		return true;
	}

	async function printSheet() {
		const button = this;
		button.disabled = true;
		try {
			if (await build()) {
				window.print(); /* returns once the print dialog is closed */
				if (!view) {
					CB.$("print-sheet").hidden = true;
					document.body.removeAttribute("data-sheet");
				}
			}
		} finally {
			button.disabled = false;
		}
	}

	CB.$("print-open").addEventListener("click", printSheet);
	CB.$("print-again").addEventListener("click", printSheet);
	if (view) {
		document.body.classList.add("print-view");
		CB.$("print-toolbar").hidden = false;
		build();
	}
})();
