package io.itemfleet.schemas;

import java.util.regex.Pattern;

/**
 * The one rule for secrets in anything ItemFleet prints or stores (logs, banners, {@code
 * --print-config}, error messages, failure events, the ledger, the API): the user-info of a URL
 * ({@code //user:secret@host} becomes {@code //***@host}) and the value of every query or key-value
 * parameter whose name mentions a password, secret, token or key ({@code ?user=app&password=s3cret}
 * becomes {@code ?user=app&password=***}).
 */
public final class Redaction {
  /** What stands in for a secret. */
  public static final String MASK = "***";

  /** {@code scheme://user-info@}: everything between {@code //} and the first {@code @}. */
  private static final Pattern USER_INFO = Pattern.compile("(?<=//)[^/@\\s?#\"']++@");

  /**
   * Words that make a parameter's value a secret: a query or key-value parameter ({@code [?&;]
   * name=value}, the name made of ASCII letters, digits, {@code _ . -}) whose name contains one of
   * them, in any case, has its value (up to {@code & ; #}, a quote or white space) masked.
   */
  private static final String[] SECRET_WORDS = {
    "password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "access_key", "sslkey"
  };

  private Redaction() {}

  /** {@code text} with every credential-looking URL part replaced by {@value #MASK}. */
  public static String text(String text) {
    if (text == null || text.isEmpty()) return text;
    if (text.indexOf('@') < 0 && text.indexOf('=') < 0) return text; // the common case: nothing
    String s = text.indexOf('@') < 0 ? text : USER_INFO.matcher(text).replaceAll(MASK + "@");
    return s.indexOf('=') < 0 ? s : maskSecretParameters(s);
  }

  /**
   * One pass over the text (a pattern for this backtracked over long names, quadratic in text that
   * handlers control): at each '=', the name before it back to its {@code ? & ;}, and the value
   * masked when the name mentions a secret.
   */
  private static String maskSecretParameters(String s) {
    StringBuilder out = null;
    int copied = 0;
    for (int eq = s.indexOf('='); eq >= 0; eq = s.indexOf('=', eq + 1)) {
      int start = eq;
      while (start > 0 && isNameChar(s.charAt(start - 1))) start--;
      if (start == eq || start == 0 || "?&;".indexOf(s.charAt(start - 1)) < 0) continue;
      if (!mentionsSecret(s.substring(start, eq))) continue;
      int end = eq + 1;
      while (end < s.length() && !endsValue(s.charAt(end))) end++;
      if (out == null) out = new StringBuilder(s.length());
      out.append(s, copied, eq + 1).append(MASK);
      copied = end;
      eq = end - 1; // matches never overlap: the next '=' is looked for after this value
    }
    return out == null ? s : out.append(s, copied, s.length()).toString();
  }

  private static boolean isNameChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '.'
        || c == '-';
  }

  /** What ends a parameter's value: {@code & ; #}, a quote, or white space as regexes mean it. */
  private static boolean endsValue(char c) {
    return "&;#\"' \t\n\u000B\f\r".indexOf(c) >= 0;
  }

  private static boolean mentionsSecret(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    for (String w : SECRET_WORDS) {
      if (n.contains(w)) return true;
    }
    return false;
  }
}
