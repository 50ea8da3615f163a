// The heap census probe (tools/xs-census/README.md): the app's own main runs
// as usual, and every 250 ms a full collection and a one-line census; the
// whole breakdown when live slots or chunks pass this 10 s window's highest.
// globalThis.__census(label), for a census at a chosen point of the code
// while measuring (a local edit, never committed).
import census from "census";
import Timer from "timer";
import "main";

let n = 0, peakSlots = 0, peakChunks = 0, windowStart = Date.now();
Timer.repeat(() => {
	if (Date.now() - windowStart > 10000) { peakSlots = 0; peakChunks = 0; windowStart = Date.now(); }
	const v = census(`t${n}`, 0);
	const slots = Math.floor(v / 1048576), chunks = v % 1048576;
	if (slots > peakSlots + 20 || chunks > peakChunks + 1024 || n % 40 === 0) {
		census(`d${n}`, 40);
		peakSlots = Math.max(peakSlots, slots); peakChunks = Math.max(peakChunks, chunks);
	}
	n++;
}, 250);
globalThis.__census = (label) => census(label, 0);
