/*
 * common.js - what every carebridge page shares: the API client (session
 * cookie, JSON errors), the signed-in user, the header, the live stream with
 * its "live / reconnecting" indicator, and small DOM and date helpers.
 *
 * Pages never put a patient identifier in the URL: selected episodes live in
 * script state only.  No inline script or style anywhere (the pages carry a
 * strict Content-Security-Policy).
 */
"use strict";

const CB = (function () {
	const HOME = {
		nurse: "/ward",
		ot: "/ward",
		physio: "/ward",
		social_worker: "/queue",
		bed_manager: "/dashboard",
		admin: "/dashboard",
		hub_coordinator: "/hub",
		council_social_worker: "/hub",
		provider_staff: "/hub",
	};

	const DISCIPLINES = {
		ward: "Ward",
		social_work: "SW",
		ot: "OT",
		physio: "PT",
	};

	/*
	 * One API call.  Resolves to {ok, status, data, error}: error is the
	 * server's {code, message, field} or a network message; never rejects.
	 */
	async function api(method, path, body, headers) {
		const init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
		if (body !== undefined) {
			init.headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(body);
		}
		Object.assign(init.headers, headers || {});
		let res;
		try {
			res = await fetch(path, init);
		} catch (e) {
			return { ok: false, status: 0, data: null, error: { code: "network", message: "could not reach the server", field: null } };
		}
		let data = null;
		const type = res.headers.get("Content-Type") || "";
		if (res.status !== 204 && type.indexOf("json") >= 0) {
			try {
				data = await res.json();
			} catch (e) {
				data = null;
			}
		}
		if (res.status === 401 && path !== "/api/v1/session" && path !== "/api/v1/me") {
			location.assign("/login");
		}
		const error = res.ok ? null : (data && data.error) || { code: "http", message: "the server answered " + res.status, field: null };
		return { ok: res.ok, status: res.status, data: data, error: error, headers: res.headers };
	}

	/* Every item of a paged list endpoint (limit at most 500). */
	async function apiAll(path, max) {
		const items = [];
		const sep = path.indexOf("?") >= 0 ? "&" : "?";
		for (let offset = 0; ; offset += 500) {
			const r = await api("GET", path + sep + "limit=500&offset=" + offset);
			if (!r.ok)
				return r;
			const page = (r.data && r.data.items) || [];
			items.push.apply(items, page);
			const total = r.data && typeof r.data.total === "number" ? r.data.total : items.length;
			if (page.length === 0 || items.length >= total || items.length >= (max || 100000))
				break;
		}
		return { ok: true, status: 200, data: { items: items }, error: null };
	}

	/* Run fn over items with at most n in flight. */
	async function pool(items, n, fn) {
		let next = 0;
		async function worker() {
			while (next < items.length) {
				const i = next++;
				await fn(items[i], i);
			}
		}
		const workers = [];
		for (let i = 0; i < Math.min(n, items.length); i++)
			workers.push(worker());
		await Promise.all(workers);
	}

	/* Create an element: el("td", {class: "num", text: "3"}, child...). */
	function el(tag, attrs) {
		const e = document.createElement(tag);
		for (const k in attrs || {}) {
			const v = attrs[k];
			if (v === undefined || v === null || v === false)
				continue;
			if (k === "text")
				e.textContent = v;
			else if (k === "class")
				e.className = v;
			else if (k.slice(0, 2) === "on")
				e.addEventListener(k.slice(2), v);
			else if (v === true)
				e.setAttribute(k, "");
			else
				e.setAttribute(k, String(v));
		}
		for (let i = 2; i < arguments.length; i++) {
			const c = arguments[i];
			if (c === null || c === undefined || c === false)
				continue;
			e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
		}
		return e;
	}

	function $(id) {
		return document.getElementById(id);
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	/* ---- dates (the trust's clock is Europe/London) ---------------------------------- */
	const londonFmt = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" });
	const showFmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", day: "numeric", month: "short" });
	const showTimeFmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

	/* "YYYY-MM-DD" of an instant in London. */
	function londonDate(d) {
		return londonFmt.format(d || new Date());
	}

	/* Days between two "YYYY-MM-DD" dates (b - a). */
	function dayDiff(a, b) {
		return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / 86400000);
	}

	function addDays(ymd, n) {
		return new Date(Date.parse(ymd + "T00:00:00Z") + n * 86400000).toISOString().slice(0, 10);
	}

	function showDate(ymd) {
		if (!ymd)
			return "—";
		return showFmt.format(new Date(ymd + "T12:00:00Z"));
	}

	function showTime(iso) {
		if (!iso)
			return "—";
		return showTimeFmt.format(new Date(iso));
	}

	/* Whole days since an instant, counted in London dates. */
	function daysSince(iso) {
		if (!iso)
			return 0;
		return dayDiff(londonDate(new Date(iso)), londonDate());
	}

	/* An instant as the API writes it (RFC 3339, whole seconds, UTC). */
	function isoNow(d) {
		return (d || new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
	}

	/*
	 * Delayed days of a delay: the midnights counted from opened_at (the first
	 * one) up to closed_at or now; the server's "days" when it gives one.
	 */
	function delayDays(delay) {
		if (!delay)
			return 0;
		if (typeof delay.days === "number")
			return delay.days;
		if (!delay.opened_at)
			return 0;
		const first = londonDate(new Date(Date.parse(delay.opened_at) - 1000));
		const end = delay.closed_at ? new Date(delay.closed_at) : new Date();
		const last = londonDate(new Date(end.getTime() - 1000));
		return Math.max(0, dayDiff(first, last) + (delay.closed_at ? 1 : 0));
	}

	/* ---- NHS number (DOMAIN.md: modulus 11) ------------------------------------------ */
	function nhsDigits(s) {
		return String(s || "").replace(/[\s-]/g, "");
	}

	function nhsValid(s) {
		const d = nhsDigits(s);
		if (!/^[0-9]{10}$/.test(d))
			return false;
		let sum = 0;
		for (let i = 0; i < 9; i++)
			sum += Number(d[i]) * (10 - i);
		let check = 11 - (sum % 11);
		if (check === 11)
			check = 0;
		if (check === 10)
			return false;
		return check === Number(d[9]);
	}

	function nhsShow(s) {
		const d = nhsDigits(s);
		return d.length === 10 ? d.slice(0, 3) + " " + d.slice(3, 6) + " " + d.slice(6) : d;
	}

	function patientName(p) {
		if (!p)
			return "—";
		return (p.family_name || "").toUpperCase() + ", " + (p.given_name || "");
	}

	/*
	 * The one wording of a Care Act assessment's state, used by the ward
	 * board's social-work chip and by the queue alike, so the two screens
	 * never name one assessment differently.
	 */
	const ASSESSMENT_STATES = {
		unclaimed: "Unclaimed",
		claimed: "Claimed",
		"in-progress": "In progress",
		"on-hold": "On hold",
		completed: "Completed",
		cancelled: "Cancelled",
	};

	function assessmentLabel(state) {
		return ASSESSMENT_STATES[state] || String(state || "—");
	}

	/*
	 * The one wording of a referral's state (issue 15), used by the ward
	 * board's social-work chip, the queue, the dashboard and the hub alike,
	 * so no two screens name one referral differently: a referral row
	 * ({state, service: {start_date}}) or null.  cls is the chip colour
	 * (the task chips' st-* classes).
	 */
	const REFERRAL_CHIPS = {
		notified: ["Hub: not sent", "requested"],
		referred: ["Hub: waiting", "accepted"],
		info_requested: ["Hub: info requested", "on-hold"],
		declined: ["Hub: declined", "on-hold"],
		accepted: ["Hub: accepted", "in-progress"],
		sourced: ["Service found", "in-progress"],
		start_confirmed: ["Start", "completed"],
		completed: ["Referral closed", "cancelled"],
		withdrawn: ["Referral closed", "cancelled"],
	};

	function referralChip(r) {
		if (!r)
			return null;
		const c = REFERRAL_CHIPS[r.state] || [String(r.state || "—"), "requested"];
		let text = c[0];
		if (r.state === "start_confirmed")
			text = "Start " + (r.service && r.service.start_date ? showDate(r.service.start_date) : "confirmed");
		return { text: text, cls: "st-" + c[1], state: r.state };
	}

	/* A chip element for a referral (or null): <span class="chip ..." data-referral="state">. */
	function referralChipEl(r, title) {
		const c = referralChip(r);
		if (!c)
			return null;
		return el("span", { class: "chip referral " + c.cls, "data-referral": c.state, title: title || null, text: c.text });
	}

	/*
	 * Which of two referrals of one episode a screen shows (either may be
	 * null): the same referral's later version, else the open one, else the
	 * one notified last (the episode JSON's "referral" follows the same rule).
	 */
	function referralNewer(cur, r) {
		if (!r)
			return cur;
		if (!cur)
			return r;
		if (cur.id === r.id)
			return r.version >= cur.version ? r : cur;
		const open = function (x) { return !x.closed_at; };
		if (open(cur) !== open(r))
			return open(r) ? r : cur;
		return r.notified_at >= cur.notified_at ? r : cur;
	}

	const SERVICE_KINDS = {
		home_care: "Home care",
		reablement: "Reablement",
		intermediate_care_bed: "Intermediate-care bed",
		care_home: "Care home",
		equipment: "Equipment",
		other: "Other",
	};

	/* ---- the signed-in user ---------------------------------------------------------- */

	/*
	 * Who is signed in; sends anyone else to /login, and a user whose role
	 * has no business on this page to their own home.
	 */
	async function requireUser(roles) {
		const r = await api("GET", "/api/v1/me");
		if (!r.ok) {
			location.replace("/login");
			return new Promise(function () {});
		}
		const me = r.data;
		if (roles && roles.indexOf(me.role) < 0) {
			location.replace(HOME[me.role] || "/login");
			return new Promise(function () {});
		}
		const who = $("who");
		if (who)
			who.textContent = me.name + " (" + me.role.replace("_", " ") + ")";
		const out = $("logout");
		if (out) {
			out.addEventListener("click", async function () {
				const r = await api("DELETE", "/api/v1/session");
				/* signed in through the identity provider: sign out there too */
				location.assign(r.ok && r.data && r.data.logout_url ? r.data.logout_url : "/login");
			});
		}
		return me;
	}

	/*
	 * The live stream.  EventSource sends the cookie and, after a dropped
	 * connection, Last-Event-ID by itself; when it gives up (the server
	 * answered an error, for example while restarting) a new one resumes with
	 * ?since=<last id>.  A "reset" event means the server cannot replay the
	 * gap: the page reloads its data.
	 *
	 * types are the exact event types the page reacts to, each one the
	 * server emits (docs/API.md, "Event types"; test_page_events.py checks
	 * every page's STREAM_TYPES against the server's source).  The server is
	 * asked for these types only and each gets a listener, so an event the
	 * page does not name is neither sent nor silently dropped.
	 *
	 *   types: the page's STREAM_TYPES ; query: "ward=A" or "" ;
	 *   onEvent(type, payload, id) ; onReset()
	 */
	function Live(types, query, onEvent, onReset) {
		this.types = types.slice();
		/* one "types=" each: the server cuts a parameter value at 127 bytes */
		this.query = this.types.map(function (t) { return "types=" + t; }).join("&") + (query ? "&" + query : "");
		this.onEvent = onEvent;
		this.onReset = onReset;
		this.lastId = null;
		this.es = null;
		this.backoff = 500;
		this.timer = null;
		this.indicator = $("live");
		this.state = "";
		this.open();
	}

	Live.prototype.show = function (state) {
		if (this.state === state || !this.indicator)
			return;
		this.state = state;
		this.indicator.className = "live is-" + state;
		this.indicator.textContent = state === "live" ? "Live" : state === "reconnecting" ? "Reconnecting…" : "Connecting…";
		this.indicator.setAttribute("data-state", state);
	};

	Live.prototype.open = function () {
		const self = this;
		let url = "/api/v1/stream?" + this.query;
		if (this.lastId !== null)
			url += "&since=" + encodeURIComponent(this.lastId);
		const es = new EventSource(url, { withCredentials: true });
		this.es = es;
		this.show(this.lastId === null && this.state === "" ? "connecting" : this.state || "connecting");
		es.onopen = function () {
			self.backoff = 500;
			self.show("live");
		};
		es.onerror = function () {
			if (self.es !== es)
				return;
			self.show("reconnecting");
			if (es.readyState === EventSource.CLOSED) {
				/* the browser gave up: start again ourselves, from the last id seen */
				es.close();
				clearTimeout(self.timer);
				self.timer = setTimeout(async function () {
					/* a stream ended because the session did (signed out, expired, idle,
					 * user disabled) is answered 401 for ever: go and sign in instead */
					const me = await api("GET", "/api/v1/me");
					if (me.status === 401) {
						location.assign("/login");
						return;
					}
					self.open();
				}, self.backoff);
				self.backoff = Math.min(self.backoff * 2, 10000);
			}
		};
		const handler = function (ev) {
			if (ev.lastEventId)
				self.lastId = ev.lastEventId;
			let payload = null;
			try {
				payload = JSON.parse(ev.data);
			} catch (e) {
				return;
			}
			self.onEvent(ev.type, payload, ev.lastEventId);
		};
		/* every frame the server sends is named, so there is no "message" listener */
		for (const t of this.types)
			es.addEventListener(t, handler);
		es.addEventListener("reset", function (ev) {
			try {
				const d = JSON.parse(ev.data);
				if (d && d.last_id !== undefined)
					self.lastId = String(d.last_id);
			} catch (e) {
				/* keep the last id */
			}
			if (self.onReset)
				self.onReset();
		});
	};

	/* Call fn at most once per ms milliseconds (trailing), in an animation frame. */
	function throttle(fn, ms) {
		let pending = false;
		let last = 0;
		return function () {
			if (pending)
				return;
			pending = true;
			const wait = Math.max(0, last + ms - performance.now());
			setTimeout(function () {
				requestAnimationFrame(function () {
					pending = false;
					last = performance.now();
					fn();
				});
			}, wait);
		};
	}

	/* Show or clear a message in a region (role=status/alert set in the HTML). */
	function say(node, text, kind) {
		if (!node)
			return;
		node.textContent = text || "";
		node.className = text ? "message " + (kind || "info") : "";
		node.hidden = !text;
	}

	return {
		HOME: HOME, DISCIPLINES: DISCIPLINES,
		api: api, apiAll: apiAll, pool: pool, el: el, $: $, clear: clear,
		londonDate: londonDate, dayDiff: dayDiff, addDays: addDays, showDate: showDate,
		showTime: showTime, daysSince: daysSince, isoNow: isoNow, delayDays: delayDays,
		nhsValid: nhsValid, nhsDigits: nhsDigits, nhsShow: nhsShow, patientName: patientName,
		requireUser: requireUser, Live: Live, throttle: throttle, say: say,
		assessmentLabel: assessmentLabel,
		referralChip: referralChip, referralChipEl: referralChipEl, referralNewer: referralNewer,
		SERVICE_KINDS: SERVICE_KINDS,
	};
})();

/*
 * Rows as cards on a narrow screen (app.css, "phones and tablets"): every cell
 * of a table marked "cards", or inside a box marked "cards", carries its
 * column's heading in data-label, which the style sheet shows before the
 * cell's content once the row is a card.  The pages build their rows at any
 * time, so one observer labels each row as it is added or rebuilt.
 */
(function () {
	const CARDS = "table.cards, .cards table";
	const cache = new WeakMap(); /* table -> {sig, heads}: a dashboard adds hundreds of rows */

	function headings(table) {
		const head = table.tHead && table.tHead.rows[0];
		if (!head)
			return [];
		const known = cache.get(table);
		if (known && known.sig === head.textContent)
			return known.heads;
		const out = [];
		for (const th of head.cells) {
			/* a heading that is only words for screen readers ("Actions") labels nothing */
			const clone = th.cloneNode(true);
			for (const h of clone.querySelectorAll(".visually-hidden"))
				h.remove();
			const text = clone.textContent.replace(/\s+/g, " ").trim();
			for (let i = 0; i < (th.colSpan || 1); i++)
				out.push(text);
		}
		cache.set(table, { sig: head.textContent, heads: out });
		return out;
	}

	function labelRow(tr, heads) {
		let i = 0;
		for (const c of tr.cells) {
			const l = heads[i] || "";
			if (l && c.getAttribute("data-label") !== l)
				c.setAttribute("data-label", l);
			i += c.colSpan || 1;
		}
	}

	function labelTable(table) {
		const heads = headings(table);
		for (const tb of table.tBodies)
			for (const tr of tb.rows)
				labelRow(tr, heads);
	}

	function labelNode(node) {
		if (node.nodeType !== 1)
			return;
		const table = node.closest("table");
		if (table && table.matches(CARDS)) {
			if (node.tagName === "TR") {
				labelRow(node, headings(table));
				return;
			}
			const tr = node.closest("tr");
			if (tr)
				labelRow(tr, headings(table));
			else
				labelTable(table);
			return;
		}
		if (node.querySelector && node.querySelector("table"))
			for (const t of node.querySelectorAll(CARDS))
				labelTable(t);
	}

	for (const t of document.querySelectorAll(CARDS))
		labelTable(t);
	new MutationObserver(function (records) {
		for (const r of records)
			for (const n of r.addedNodes)
				labelNode(n);
	}).observe(document.body, { childList: true, subtree: true });
})();
