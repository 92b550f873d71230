#!/usr/bin/env node
// rpyc-gateway: see `rpyc-gateway --help`. Runs the compiled CLI (npm ci builds dist/ via "prepare").
import { main } from "../dist/gateway/cli.js";

await main();
