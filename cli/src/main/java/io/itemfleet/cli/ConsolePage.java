package io.itemfleet.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The console's page ({@code recorder-page.html}) and the Content-Security-Policy it is served
 * with. The page has one inline script and one inline style block; the policy allows exactly those
 * two by their SHA-256 hashes and nothing else inline, so markup that ever got into the page (a
 * name written as HTML by mistake) could not run a script or load anything from elsewhere.
 */
final class ConsolePage {
  private static final String RESOURCE = "/recorder-page.html";

  final byte[] html;
  final String contentSecurityPolicy;

  private ConsolePage(byte[] html, String contentSecurityPolicy) {
    this.html = html;
    this.contentSecurityPolicy = contentSecurityPolicy;
  }

  static ConsolePage load() {
    try (InputStream in = ConsolePage.class.getResourceAsStream(RESOURCE)) {
      if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the jar");
      return of(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The policy for {@code html}: its one inline script and one style block, by hash. Line ends are
   * made LF first, as a browser does before it hashes (a checkout with CRLF line ends would
   * otherwise serve a page whose script its own policy blocks).
   */
  static ConsolePage of(byte[] html) {
    String page =
        new String(html, StandardCharsets.UTF_8).replace("\r\n", "\n").replace('\r', '\n');
    return new ConsolePage(
        page.getBytes(StandardCharsets.UTF_8),
        "default-src 'none'; script-src "
            + hashOf(page, "script")
            + "; style-src "
            + hashOf(page, "style")
            + "; connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none';"
            + " form-action 'none'; frame-ancestors 'none'");
  }

  /**
   * The CSP source for the text of the one {@code <tag>…</tag>} element of {@code page}: what a
   * browser hashes is the element's text exactly as written, as UTF-8.
   */
  static String hashOf(String page, String tag) {
    String open = "<" + tag + ">";
    // As a browser reads tags: in any case, an open tag followed by anything but a letter.
    java.util.regex.Matcher opens =
        java.util.regex.Pattern.compile("(?i)<" + tag + "(?![a-z0-9-])").matcher(page);
    int count = 0;
    while (opens.find()) count++;
    int from = page.indexOf(open);
    java.util.regex.Matcher close =
        java.util.regex.Pattern.compile("(?i)</" + tag + "[\\s/>]").matcher(page);
    int to = from < 0 || !close.find(from) ? -1 : close.start();
    if (count != 1 || from < 0 || to < 0) {
      throw new IllegalStateException(
          RESOURCE + " must hold exactly one plain " + open + " element for its policy");
    }
    byte[] text = page.substring(from + open.length(), to).getBytes(StandardCharsets.UTF_8);
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text);
      return "'sha256-" + Base64.getEncoder().encodeToString(digest) + "'";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }
}
