// In-process A/B of the native codec's per-call work between runtime trees (no sockets, no
// second process: a shared machine's scheduling noise stays out). Per tree, one round trip of
// `add(1, 2)`: encode the request, read its header, decode the arguments, encode the reply,
// read it, decode the result. Rounds alternate the trees' order; prints median and min ns.
//
//   npx tsx bench/native-codec-ab.mts /tmp/base /work/main
import path from "node:path";

const trees = process.argv.slice(2).map((t) => path.resolve(t));
const setups = [] as { label: string; run: () => void }[];
for (const root of trees) {
  // Trees before the runtime's concept folders kept the codec in runtime/codec/.
  const native = await import(`${root}/runtime/compiled/native.ts`).catch(() => import(`${root}/runtime/codec/native.ts`));
  const { BENCH_SERVICE_SCHEMA } = await import(`${root}/bench/generated/bench-service.client.ts`);
  await native.loadNativeCodec();
  const schema = native.nativeSchema(BENCH_SERVICE_SCHEMA);
  const id = native.NATIVE_VERSION >= 2 ? 0 : native.schemaFingerprint(BENCH_SERVICE_SCHEMA);
  const m = schema.method("add") ?? schema.method("ping");
  const target = ["rpyc_ts.BenchService", 1, 1] as const;
  setups.push({
    label: root,
    run: () => {
      const req = native.encodeNativeRequest(1, id, m, target, [1, 2], false)[0];
      const f = native.readNativeFrame(req.subarray(5, req.length - 1));
      m.decodeArgs(f.reader, f.header.argc);
      const rep = native.encodeNativeReply(1, m, 3, false)[0];
      const g = native.readNativeFrame(rep.subarray(5, rep.length - 1));
      m.decodeResult(g.reader);
    },
  });
}
const res = new Map<string, number[]>();
for (let round = 0; round < 15; round++)
  for (const s of round % 2 ? [...setups].reverse() : setups) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 100000; i++) s.run();
    const ns = Number(process.hrtime.bigint() - t) / 100000;
    if (round >= 3) (res.get(s.label) ?? res.set(s.label, []).get(s.label)!).push(ns);
  }
for (const [label, v] of res) {
  v.sort((a, b) => a - b);
  console.log(label, "median", v[v.length >> 1]!.toFixed(0), "ns; min", v[0]!.toFixed(0));
}
