/** Query or key=value parameters that hold a credential. */
const CREDENTIAL_PARAM =
  /^(?:password|passwd|pwd|pass|sslpassword|secret|token|access_token|api[-_]?key|access[-_]?key|secret[-_]?key|sas|sig)$/i;

/** A connection string or URL safe to print: the user-info password and credential parameters become ***. */
export function redactConnection(value: string): string {
  let text = value;
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(text);
  if (scheme) {
    const rest = scheme[2]!;
    const query = rest.search(/[?#]/);
    // The last @ before the query: a password may itself contain @.
    const at = rest.lastIndexOf('@', query >= 0 ? query : rest.length);
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      const colon = userinfo.indexOf(':');
      const password = colon >= 0 ? userinfo.slice(colon + 1) : '';
      const shownPassword = password === '' || /^\$\{\w+\}$/.test(password) ? password : '***';
      const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
      text = `${scheme[1]}${user}${colon >= 0 ? `:${shownPassword}` : ''}@${rest.slice(at + 1)}`;
    }
  }
  return text.replace(/([?&;]|^)([\w-]+)=([^&;#\s]*)/g, (whole, lead: string, key: string, val: string) =>
    CREDENTIAL_PARAM.test(key) && !/^\$\{\w+\}$/.test(val) ? `${lead}${key}=***` : whole,
  );
}

/** A URL without its user info and credential parameters (the URL itself when it has none). */
export function withoutCredentials(url: string): string {
  if (!hasLiteralSecret(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (CREDENTIAL_PARAM.test(key)) parsed.searchParams.delete(key);
    }
    return parsed.toString();
  } catch {
    return redactConnection(url);
  }
}

/** True when a connection string carries a literal credential. */
export function hasLiteralSecret(value: string): boolean {
  return redactConnection(value) !== value;
}
