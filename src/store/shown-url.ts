/** A store URL as shown to the user (doctor, errors, logs): its password never. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    // libpq and node-postgres also take it as a parameter.
    if (u.searchParams.has("password")) u.searchParams.set("password", "***");
    return u.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}
