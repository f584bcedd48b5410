/*
 * login.js - the sign-in page: POST /api/v1/session sets the session cookie,
 * then GET /api/v1/me says where the user's home page is.  A user who is
 * already signed in goes straight home.  GET /api/v1/auth/methods says
 * whether the trust's identity provider is offered (its button) and whether
 * passwords are (the form), and a refused provider sign-in comes back here
 * with ?error=<reason>.
 */
"use strict";

(function () {
	const form = CB.$("login-form");
	const error = CB.$("login-error");

	function goHome(me) {
		location.replace(CB.HOME[me.role] || "/login");
	}

	const REASONS = {
		state: "The sign-in took too long or was already used. Please try again.",
		bad_token: "The identity provider's answer could not be trusted. Please try again.",
		code_refused: "The identity provider refused the sign-in. Please try again.",
		unknown_user: "Your account is not set up in carebridge yet. Ask the carebridge administrator to link it.",
		provider_refused: "Sign-in was cancelled or refused by the identity provider.",
		provider_unavailable: "The identity provider cannot be reached just now. Please try again.",
		unavailable: "carebridge cannot sign you in just now. Please try again.",
	};
	const reason = new URLSearchParams(location.search).get("error");
	if (reason) {
		error.textContent = REASONS[reason] || "Sign-in failed. Please try again.";
		error.hidden = false;
	}

	CB.api("GET", "/api/v1/me").then(function (r) {
		if (r.ok)
			goHome(r.data);
	});

	CB.api("GET", "/api/v1/auth/methods").then(function (r) {
		if (!r.ok)
			return;
		if (r.data.oidc) {
			CB.$("oidc-login").textContent = r.data.oidc.label;
			CB.$("oidc-login").href = r.data.oidc.login_url;
			CB.$("oidc").hidden = false;
			CB.$("oidc-or").hidden = !r.data.password_login;
		}
		form.hidden = !r.data.password_login;
		if (r.data.totp_required)
			CB.$("totp-field").hidden = false;
	});

	form.addEventListener("submit", async function (ev) {
		ev.preventDefault();
		const name = CB.$("name").value.trim();
		const password = CB.$("password").value;
		error.hidden = true;
		if (!name || !password) {
			error.textContent = "Enter your user name and password.";
			error.hidden = false;
			return;
		}
		const button = CB.$("login-submit");
		button.disabled = true;
		const body = { name: name, password: password };
		const totp = CB.$("totp").value.trim();
		if (totp)
			body.totp = totp;
		const r = await CB.api("POST", "/api/v1/session", body);
		button.disabled = false;
		if (!r.ok && r.error && r.error.field === "totp") {
			/* this account needs its one-time code */
			CB.$("totp-field").hidden = false;
			error.textContent = r.error.message;
			error.hidden = false;
			CB.$("totp").focus();
			return;
		}
		if (!r.ok) {
			error.textContent = r.status === 401 ? "User name or password is wrong." : r.error.message;
			error.hidden = false;
			CB.$("password").value = "";
			CB.$("password").focus();
			return;
		}
		const me = await CB.api("GET", "/api/v1/me");
		if (me.ok)
			goHome(me.data);
	});
})();
