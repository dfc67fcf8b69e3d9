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
  private static final Pattern USER_INFO = Pattern.compile("(?<=//)[^/@\\s?#\"']+@");

  /** Parameters that carry secrets, in a URL query or a JDBC URL. */
  private static final Pattern SECRET_PARAM =
      Pattern.compile(
          "(?i)([?&;](?:[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|apikey|api_key|"
              + "access_key|sslkey)[a-z0-9_.-]*)=)[^&;#\\s\"']*");

  private Redaction() {}

  /** {@code text} with every credential-looking URL part replaced by {@value #MASK}. */
  public static String text(String text) {
    if (text == null || text.isEmpty()) return text;
    if (text.indexOf('@') < 0 && text.indexOf('=') < 0) return text; // the common case: nothing
    String s = USER_INFO.matcher(text).replaceAll(MASK + "@");
    return SECRET_PARAM.matcher(s).replaceAll("$1" + MASK);
  }
}
