// validate.js - FHIR R4 validation for carebridge's tests, with the npm package fhir
// (FHIR.js, R4 profiles by default), pinned by package-lock.json and installed by
// scripts/bootstrap.  Reads one JSON array of resources per line on stdin and writes, per
// line, one JSON array of {"valid": bool, "messages": [...]} in the same order, so that a
// test run starts node once and validates many resources per round trip.
'use strict';
const readline = require('readline');
const { Fhir } = require('fhir');

const fhir = new Fhir();
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
	let out;
	try {
		out = JSON.parse(line).map((resource) => {
			const r = fhir.validate(resource);
			return { valid: r.valid, messages: r.messages };
		});
	} catch (e) {
		out = { error: String(e) };
	}
	process.stdout.write(JSON.stringify(out) + '\n');
});
process.stdout.write('ready\n');
