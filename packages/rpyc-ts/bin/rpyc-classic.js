#!/usr/bin/env node
// rpyc-classic: serves ClassicService (RPyC classic mode). It GRANTS ARBITRARY CODE
// EXECUTION to anyone who can connect; it binds 127.0.0.1 unless --host says otherwise.
// See `rpyc-classic --help`. Runs the compiled CLI (npm ci builds dist/ via "prepare").
import { run } from "../dist/classic/cli.js";

await run();
