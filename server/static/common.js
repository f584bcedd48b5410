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
		for (;;) {
			const r = await apiOnce(method, path, body, headers);
			if (r.status !== 401 || path === "/api/v1/session" || path === "/api/v1/me" || !session.me)
				return r;
			/*
			 * The session ended (expired, idle, revoked) while this request
			 * was on its way: nothing was done.  The page stays as it is, a
			 * sign-in dialog opens over it, and once the same user has
			 * signed in again the request is sent again as it was.
			 */
			/* a change (not a read) waiting is counted in the dialog's words */
			const change = method !== "GET";
			if (change)
				pending++;
			const back = await sessionEnded("expired");
			if (change)
				pending--;
			if (!back)
				return { ok: false, status: 401, data: null, headers: r.headers,
					error: { code: "signed_out", message: "you are signed out, so nothing was saved", field: null } };
		}
	}

	async function apiOnce(method, path, body, headers) {
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
		if (res.status !== 401)
			noteUse();
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

	/* A task's status as staff say it ("In progress", "On hold"). */
	const TASK_STATES = {
		requested: "Requested",
		accepted: "Accepted",
		"in-progress": "In progress",
		"on-hold": "On hold",
		completed: "Completed",
		cancelled: "Cancelled",
	};

	function taskLabel(status) {
		return TASK_STATES[status] || String(status || "—");
	}

	/* ---- the signed-in user, and signing in again without leaving the page ---------- */

	/*
	 * me: the user as /api/v1/me last said (null before requireUser);
	 * ended: a promise while signed out, resolved true once the same user
	 * has signed in again (false: someone else did, the page goes to their
	 * home); listeners: called after signing in again (the live stream).
	 */
	const session = { me: null, ended: null, resolve: null, listeners: [], why: "" };
	let pending = 0;            /* requests waiting to be sent again */
	const LAST_USE = "cb.lastUse"; /* shared by the tabs of this browser: a time, nothing else */
	let lastUse = Date.now();

	function noteUse() {
		lastUse = Date.now();
		try {
			localStorage.setItem(LAST_USE, String(lastUse));
		} catch (e) {
			/* storage refused: this tab's own uses still count */
		}
	}

	function lastUseAt() {
		let shared = 0;
		try {
			shared = Number(localStorage.getItem(LAST_USE)) || 0;
		} catch (e) {
			shared = 0;
		}
		return Math.max(lastUse, shared);
	}

	function onSignedIn(fn) {
		session.listeners.push(fn);
	}

	function signedOut() {
		return !!session.ended;
	}

	const WHY = {
		idle: "You were signed out because this screen was not used for a while.",
		expired: "Your sign-in has ended (it expired, or you were signed out elsewhere).",
		ended: "Your sign-in has ended (it expired, or you were signed out elsewhere).",
	};

	/*
	 * The session is gone: say so at once and ask to sign in again over the
	 * page, which keeps everything typed into it.  Why an in-place dialog
	 * and not a saved draft: a draft holds patient details, and a ward
	 * computer's browser storage is shared; page memory is not.
	 */
	function sessionEnded(why) {
		if (!session.ended) {
			session.why = why || "ended";
			session.ended = new Promise(function (resolve) { session.resolve = resolve; });
			showSignIn();
		} else {
			updateSignIn();
		}
		return session.ended;
	}

	let sdlg = null;
	let methods = null;

	function signInText() {
		const n = pending;
		return (WHY[session.why] || WHY.ended) + " " + (n > 0
			? (n === 1 ? "One change is" : n + " changes are") + " waiting: sign in again and it will be sent. Nothing you typed is lost."
			: "Sign in again to carry on: nothing you typed is lost.");
	}

	function updateSignIn() {
		if (sdlg)
			$("signin-text").textContent = signInText();
	}

	async function showSignIn() {
		const live = $("live");
		if (live) {
			live.className = "live is-signed-out";
			live.textContent = "Signed out";
			live.setAttribute("data-state", "signed-out");
		}
		hideWarning();
		if (!sdlg) {
			sdlg = el("dialog", { id: "signin-dialog", "aria-labelledby": "signin-title", "aria-describedby": "signin-text" },
				el("h2", { id: "signin-title", text: "You are signed out" }),
				el("p", { id: "signin-text" }),
				el("p", { id: "signin-error", class: "form-error", role: "alert", hidden: true }),
				el("div", { id: "signin-oidc", hidden: true },
					el("button", { type: "button", id: "signin-oidc-button", text: "Sign in with your organisation account" }),
					el("p", { class: "hint", id: "signin-oidc-hint", text: "Opens the sign-in page in a new window; this page stays as it is." })),
				el("form", { id: "signin-form", novalidate: true },
					el("div", { class: "field" }, el("label", { for: "signin-name", text: "User name" }),
						el("input", { id: "signin-name", autocomplete: "username", required: true })),
					el("div", { class: "field" }, el("label", { for: "signin-password", text: "Password" }),
						el("input", { id: "signin-password", type: "password", autocomplete: "current-password", required: true })),
					el("div", { class: "field", id: "signin-totp-field", hidden: true }, el("label", { for: "signin-totp", text: "One-time code" }),
						el("input", { id: "signin-totp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" })),
					el("div", { class: "actions" }, el("button", { type: "submit", id: "signin-submit", text: "Sign in and carry on" }))));
			document.body.appendChild(sdlg);
			/* there is no carrying on without signing in: Escape does not close it */
			sdlg.addEventListener("cancel", function (ev) { ev.preventDefault(); });
			$("signin-form").addEventListener("submit", signInSubmit);
			$("signin-oidc-button").addEventListener("click", signInOidc);
		}
		$("signin-name").value = session.me ? session.me.name : "";
		$("signin-password").value = "";
		say($("signin-error"), "");
		updateSignIn();
		if (!sdlg.open)
			sdlg.showModal();
		$("signin-password").focus();
		if (!methods) {
			const r = await apiOnce("GET", "/api/v1/auth/methods");
			methods = r.ok ? r.data : { password_login: true, oidc: null };
		}
		$("signin-form").hidden = !methods.password_login;
		$("signin-totp-field").hidden = !methods.totp_required;
		if (methods.oidc) {
			$("signin-oidc").hidden = false;
			$("signin-oidc-button").textContent = methods.oidc.label || "Sign in with your organisation account";
			if (!methods.password_login || (session.me && session.me.session && session.me.session.signed_in_with === "oidc"))
				$("signin-oidc-button").focus();
		}
	}

	function signInError(text) {
		const e = $("signin-error");
		e.textContent = text;
		e.hidden = !text;
	}

	/* Signed in again: the same user carries on; anyone else starts afresh at their home. */
	async function signedInAgain() {
		const r = await apiOnce("GET", "/api/v1/me");
		if (!r.ok) {
			signInError("The sign-in did not take: please try again.");
			return;
		}
		if (session.me && r.data.id !== session.me.id) {
			signInError("You signed in as " + (r.data.display_name || r.data.name) + ", not " +
				(session.me.display_name || session.me.name) + ": the changes waiting were not sent. Opening your own page…");
			const resolve = session.resolve;
			setTimeout(function () {
				resolve(false);
				location.replace(HOME[r.data.role] || "/login");
			}, 1500);
			return;
		}
		session.me.session = r.data.session;
		noteUse();
		const resolve = session.resolve;
		session.ended = null;
		session.resolve = null;
		sdlg.close();
		for (const fn of session.listeners)
			fn();
		resolve(true);
	}

	async function signInSubmit(ev) {
		ev.preventDefault();
		const name = $("signin-name").value.trim();
		const password = $("signin-password").value;
		signInError("");
		if (!name || !password) {
			signInError("Enter your user name and password.");
			return;
		}
		const body = { name: name, password: password };
		const totp = $("signin-totp").value.trim();
		if (totp)
			body.totp = totp;
		const button = $("signin-submit");
		button.disabled = true;
		const r = await apiOnce("POST", "/api/v1/session", body);
		button.disabled = false;
		$("signin-password").value = "";
		if (!r.ok) {
			if (r.error && r.error.field === "totp") {
				$("signin-totp-field").hidden = false;
				signInError(plain(r.error) + ".");
				$("signin-totp").focus();
				return;
			}
			signInError(r.status === 401 ? "User name or password is wrong." : sentence(plain(r.error)));
			$("signin-password").focus();
			return;
		}
		await signedInAgain();
	}

	/*
	 * Through the identity provider: its pages cannot be shown inside this
	 * one, so they open in a window of their own; the new session cookie is
	 * this browser's, so once /api/v1/me answers the window is closed.
	 */
	let oidcPoll = null;

	function signInOidc() {
		signInError("");
		const w = window.open(methods.oidc.login_url, "cb-signin", "popup,width=520,height=680");
		if (!w) {
			signInError("This browser blocked the sign-in window. Allow pop-ups for carebridge, then press the button again (this page stays as it is).");
			return;
		}
		$("signin-oidc-hint").textContent = "Finish signing in in the other window; this page carries on by itself.";
		clearInterval(oidcPoll);
		oidcPoll = setInterval(async function () {
			const r = await apiOnce("GET", "/api/v1/me");
			if (r.ok) {
				clearInterval(oidcPoll);
				try {
					w.close();
				} catch (e) {
					/* already closed */
				}
				$("signin-oidc-hint").textContent = "Opens the sign-in page in a new window; this page stays as it is.";
				await signedInAgain();
			} else if (w.closed) {
				clearInterval(oidcPoll);
				$("signin-oidc-hint").textContent = "The sign-in window was closed before signing in. Press the button to try again.";
			}
		}, 1000);
	}

	/* ---- the idle warning ------------------------------------------------------------ */

	/*
	 * /api/v1/me says when the session expires and how long it may go
	 * unused (idle_timeout; it may end up to idle_margin sooner, as the
	 * server records uses at most once a slide).  Every request is a use.
	 * The warning shows before the soonest end; the page asks the server
	 * only once the latest end has passed, so asking never keeps a session
	 * alive that nobody is using.
	 */
	let warnBox = null;
	let checking = false;

	function hideWarning() {
		if (warnBox)
			warnBox.hidden = true;
	}

	function minutesText(ms) {
		const s = Math.max(0, Math.round(ms / 1000));
		return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
	}

	function showWarning(text, canStay) {
		if (!warnBox) {
			warnBox = el("div", { id: "session-warning", class: "session-warning", role: "alert" },
				el("span", { id: "session-warning-text" }), " ",
				el("button", { type: "button", id: "session-stay", text: "Stay signed in",
					onclick: async function () {
						const r = await apiOnce("GET", "/api/v1/me");
						if (r.ok) {
							session.me.session = r.data.session;
							hideWarning();
						} else if (r.status === 401) {
							sessionEnded("idle");
						}
					} }));
			const main = document.querySelector("main");
			document.body.insertBefore(warnBox, main || document.body.firstChild);
		}
		$("session-warning-text").textContent = text;
		$("session-stay").hidden = !canStay;
		warnBox.hidden = false;
	}

	async function idleTick() {
		const me = session.me;
		if (!me || !me.session || session.ended || checking)
			return;
		const s = me.session;
		const now = Date.now();
		const expires = s.expires_at ? Date.parse(s.expires_at) : Infinity;
		const idle = typeof s.idle_timeout === "number" ? s.idle_timeout * 1000 : Infinity;
		const margin = typeof s.idle_margin === "number" ? s.idle_margin * 1000 : 0;
		const used = lastUseAt();
		const idleEnd = used + idle - margin;   /* the soonest it may idle out */
		const idleSure = used + idle + 3000;    /* by now it has */
		const warn = Math.min(120000, idle / 4);
		if (now >= Math.min(idleSure, expires + 1000)) {
			checking = true;
			const r = await apiOnce("GET", "/api/v1/me");
			checking = false;
			if (r.status === 401)
				sessionEnded(now >= expires ? "expired" : "idle");
			else if (r.ok)
				session.me.session = r.data.session;
			return;
		}
		if (idleEnd <= expires && now >= idleEnd - warn) {
			showWarning(now < idleEnd
				? "This screen has not been used for a while: you will be signed out in " + minutesText(idleEnd - now) + "."
				: "This screen has not been used for a while: you are being signed out.", true);
		} else if (expires < idleEnd && now >= expires - Math.max(warn, 300000)) {
			showWarning("Your sign-in ends at " + showTimeFmt.format(new Date(expires)) +
				": finish what you are doing, then you will be asked to sign in again (nothing typed is lost).", false);
		} else {
			hideWarning();
		}
	}

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
		session.me = me;
		noteUse();
		setInterval(idleTick, 1000);
		const who = $("who");
		if (who)
			who.textContent = (me.display_name || me.name) + " (" + me.role.replace("_", " ") + (me.team_lead ? ", team lead" : "") + ")";
		const out = $("logout");
		if (out) {
			out.addEventListener("click", async function () {
				const r = await apiOnce("DELETE", "/api/v1/session");
				/* signed in through the identity provider: sign out there too */
				location.assign(r.ok && r.data && r.data.logout_url ? r.data.logout_url : "/login");
			});
		}
		return me;
	}

	/* ---- plain words for the server's errors ----------------------------------------- */

	/* Request fields as the screens label them: no JSON field name reaches a person. */
	const FIELD_LABELS = {
		nhs_number: "NHS number", family_name: "family name", given_name: "given name",
		birth_date: "date of birth", admitted_at: "admission time", expected_discharge_date: "expected discharge date",
		ready_at: "discharge ready time", pathway: "pathway", ward: "ward", bed: "bed", sex: "sex",
		destination: "destination", destination_note: "destination details", discharged_at: "discharge time", external_id: "visit number",
		state: "state", status: "status", note: "note", reason: "reason", owner: "owner",
		outcome: "outcome", criteria_met: "criteria met", decided_at: "time agreed", to: "social worker",
		name: "user name", password: "password", totp: "one-time code",
	};

	const STATE_WORDS = {
		"\"unclaimed\"": "unclaimed", "\"claimed\"": "claimed", "\"in-progress\"": "in progress",
		"\"on-hold\"": "on hold", "\"completed\"": "completed", "\"cancelled\"": "cancelled",
		"\"requested\"": "requested", "\"accepted\"": "accepted",
	};

	/*
	 * The server's message in plain words: quoted field names become the
	 * labels on the screen, quoted states plain words, "this user's"
	 * "your", and a request to an API path names none.  A network failure
	 * says that nothing was saved.  No full stop at the end.
	 */
	function plain(err) {
		if (!err)
			return "";
		if (err.code === "network")
			return "could not reach the server, so nothing was saved. Check the connection and try again";
		let m = String(err.message || "");
		for (const k in FIELD_LABELS)
			m = m.split('"' + k + '"').join(FIELD_LABELS[k]);
		for (const k in STATE_WORDS)
			m = m.split(k).join(STATE_WORDS[k]);
		m = m.replace(/ use (POST|PATCH|GET|DELETE) \/api\/\S+/g, " use the button for it");
		return m.replace(/this user's/g, "your").replace(/[.\s]+$/, "");
	}

	function sentence(s) {
		return s ? s.charAt(0).toUpperCase() + s.slice(1) + (/[.?!]$/.test(s) ? "" : ".") : "";
	}

	/*
	 * A failed save shown in node: the plain message; when the server could
	 * not be reached, that nothing was saved and a "Try again" button that
	 * runs retry.
	 */
	function sayFailed(node, prefix, err, retry) {
		if (!node)
			return;
		clear(node);
		node.hidden = false;
		if (err && err.code === "network") {
			node.appendChild(document.createTextNode((prefix ? prefix + ": " : "") +
				"not saved, because the server could not be reached (check the connection). "));
			if (retry)
				node.appendChild(el("button", { type: "button", class: "secondary retry", text: "Try again",
					onclick: function () { clear(node); retry(); } }));
			return;
		}
		node.appendChild(document.createTextNode(sentence((prefix ? prefix + ": " : "") + plain(err))));
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
		const self = this;
		onSignedIn(function () {
			if (self.es && self.es.readyState !== EventSource.CLOSED)
				return;
			clearTimeout(self.timer);
			self.backoff = 500;
			self.state = "";
			self.open();
		});
		this.open();
	}

	Live.prototype.show = function (state) {
		if (this.state === state || !this.indicator || session.ended)
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
			noteUse();
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
					 * user disabled) is answered 401 for ever: say so and sign in again
					 * over the page (the stream starts again once signed in) */
					const me = await apiOnce("GET", "/api/v1/me");
					if (me.status === 401) {
						sessionEnded("ended");
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
		assessmentLabel: assessmentLabel, taskLabel: taskLabel,
		referralChip: referralChip, referralChipEl: referralChipEl, referralNewer: referralNewer,
		SERVICE_KINDS: SERVICE_KINDS,
		plain: plain, sentence: sentence, sayFailed: sayFailed,
		signedOut: signedOut, onSignedIn: onSignedIn,
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
