/*
 * login.js - the sign-in page: POST /api/v1/session sets the session cookie,
 * then GET /api/v1/me says where the user's home page is.  A user who is
 * already signed in goes straight home.
 */
"use strict";

(function () {
	const form = CB.$("login-form");
	const error = CB.$("login-error");

	function goHome(me) {
		location.replace(CB.HOME[me.role] || "/login");
	}

	CB.api("GET", "/api/v1/me").then(function (r) {
		if (r.ok)
			goHome(r.data);
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
		const r = await CB.api("POST", "/api/v1/session", { name: name, password: password });
		button.disabled = false;
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
