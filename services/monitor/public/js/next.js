// Where the login page sends the browser once logged in: the `next` page it was asked for.

/**
 * The page `next` names, when the browser resolves it to this origin; '/' otherwise. Resolving
 * it as the browser would is what catches /\evil.example and a tab or newline inside //.
 */
export function pageAfterLogin(next, origin) {
  if (!next) return '/';
  let url;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : '/';
}
