package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsolePageTest {
  @Test
  void thePolicyAllowsThePagesOwnScriptAndStyleByHashAndNothingInline() {
    // The hashes a browser computes (CSP Level 2) of the elements' text: sha256 of "alert(1)" and
    // of "b{}", worked out apart from this code (Python's hashlib).
    ConsolePage page =
        ConsolePage.of(
            "<html><style>b{}</style><script>alert(1)</script></html>"
                .getBytes(StandardCharsets.UTF_8));
    assertThat(page.contentSecurityPolicy)
        .contains("script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=';")
        .contains("style-src 'sha256-" + B_STYLE + "';")
        .contains("default-src 'none'")
        .contains("frame-ancestors 'none'")
        .doesNotContain("unsafe");
  }

  @Test
  void aPageWithASecondScriptOrAnAttributedOneIsRefusedRatherThanHalfAllowed() {
    for (String html :
        new String[] {
          "<style>b{}</style><script>a()</script><script>b()</script>",
          "<style>b{}</style><script src=x></script><script>a()</script>",
          "<style>b{}</style><SCRIPT>a()</SCRIPT><script>b()</script>",
          "<style>b{}</style><script\n>a()</script><script>b()</script>",
          "<style>b{}</style>",
        }) {
      assertThatThrownBy(() -> ConsolePage.of(html.getBytes(StandardCharsets.UTF_8)))
          .hasMessageContaining("exactly one plain <script> element");
    }
  }

  @Test
  void lineEndsAreHashedAsABrowserHashesThem() {
    // A browser makes CRLF and CR line ends LF before it hashes an element's text.
    ConsolePage crlf =
        ConsolePage.of(
            "<style>b{}</style><script>\r\nalert(1)\r</script>".getBytes(StandardCharsets.UTF_8));
    ConsolePage lf =
        ConsolePage.of(
            "<style>b{}</style><script>\nalert(1)\n</script>".getBytes(StandardCharsets.UTF_8));
    assertThat(crlf.contentSecurityPolicy).isEqualTo(lf.contentSecurityPolicy);
    assertThat(new String(crlf.html, StandardCharsets.UTF_8)).doesNotContain("\r");
  }

  @Test
  void theShippedPageLoads() {
    assertThat(ConsolePage.load().contentSecurityPolicy).contains("script-src 'sha256-");
  }

  private static final String B_STYLE = "7yqHVAesot11p6HczDsgKRipvI5UPgs97z80zNXlans=";
}
