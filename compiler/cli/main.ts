// `npm run gen -- ...`: rpyc-gen straight from the TypeScript sources (development).
import { main } from "./index.js";

await main();
