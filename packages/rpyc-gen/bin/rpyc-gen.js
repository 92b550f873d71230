#!/usr/bin/env node
// rpyc-gen: see `rpyc-gen --help`. Runs the compiled CLI (npm ci builds dist/ via "prepare").
import { main } from "../dist/cli/index.js";

await main();
