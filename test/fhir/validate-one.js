// validate.js - check FHIR R4 resources with the npm package "fhir" (FHIR.js).
//
// Reads one JSON resource from stdin and prints {"valid": bool, "messages": [...]}: the
// validator's findings at every severity.  Exit status 0 if the resource is valid, 1 if not,
// 2 if the input is not JSON.  Used by test_fhir_outbound.py (fhir_validate.py), one resource per run; validate.js (the read facade's tests) validates many per round trip. No network.
"use strict";
const { Fhir } = require("fhir");

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", () => {
	let resource;
	try {
		resource = JSON.parse(text);
	} catch (e) {
		process.stdout.write(JSON.stringify({ valid: false, messages: [{ severity: "fatal", message: String(e) }] }));
		process.exit(2);
	}
	const result = new Fhir().validate(resource, { errorOnUnexpected: true });
	process.stdout.write(JSON.stringify(result));
	process.exit(result.valid ? 0 : 1);
});
