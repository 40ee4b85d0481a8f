import { fileURLToPath } from "node:url";

/** A file shipped with the package (examples/, templates), wherever it is installed. */
export const packageFile = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url));
