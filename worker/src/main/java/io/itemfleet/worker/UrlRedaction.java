package io.itemfleet.worker;

import java.util.regex.Pattern;

/**
 * Masks credentials in URLs and text that may contain URLs, before they are logged, printed or
 * written to a failure event: user-info ({@code //user:secret@host} becomes {@code //***@host}) and
 * the values of query parameters whose name mentions a password, secret, token or key.
 */
public final class UrlRedaction {
  /** {@code scheme://user-info@}: everything between {@code //} and the first {@code @}. */
  private static final Pattern USER_INFO = Pattern.compile("(?<=//)[^/@\\s?#]+@");

  /** Query parameters that carry secrets. */
  private static final Pattern SECRET_PARAM =
      Pattern.compile(
          "(?i)([?&;](?:[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|apikey|api_key|key)"
              + "[a-z0-9_.-]*)=)[^&;#\\s]*");

  private UrlRedaction() {}

  /** {@code text} with every credential-looking URL part replaced by {@code ***}. */
  public static String redact(String text) {
    if (text == null) return null;
    String s = USER_INFO.matcher(text).replaceAll("***@");
    return SECRET_PARAM.matcher(s).replaceAll("$1***");
  }
}
