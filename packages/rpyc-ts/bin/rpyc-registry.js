#!/usr/bin/env node
// rpyc-registry: see `rpyc-registry --help`. Runs the compiled CLI (npm ci builds dist/ via "prepare").
import { main } from "../dist/registry/cli.js";

await main();
