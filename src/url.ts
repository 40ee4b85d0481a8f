/** A base URL as hooksync joins paths to it: without its trailing slashes. */
export const withoutTrailingSlash = (url: string): string => url.replace(/\/+$/, "");
