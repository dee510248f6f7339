// Times ONNX Runtime (onnxruntime-node) on one model: node ort-bench.js MODEL.onnx THREADS RUNS [SIZE]
// Prints one line per run: "ms <milliseconds>" (the first run is a warm-up, not printed).
const ort = require('onnxruntime-node');

async function main() {
	const [model, threads, runs, sizeArg] = process.argv.slice(2);
	const size = Number(sizeArg || 512);
	const session = await ort.InferenceSession.create(model, {
		intraOpNumThreads: Number(threads),
		interOpNumThreads: 1,
		executionMode: 'sequential',
		graphOptimizationLevel: 'all',
	});
	const name = session.inputNames[0];
	const data = new Float32Array(3 * size * size);
	for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
	const feeds = {[name]: new ort.Tensor('float32', data, [1, 3, size, size])};
	await session.run(feeds);
	for (let r = 0; r < Number(runs); r++) {
		const t0 = process.hrtime.bigint();
		await session.run(feeds);
		const t1 = process.hrtime.bigint();
		console.log('ms ' + Number(t1 - t0) / 1e6);
	}
}
main().catch((e) => { console.error('ort-bench: ' + e.message); process.exit(1); });
