package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TerminalTest {
  @Test
  void controlCharactersAndBidiOverridesArePrintedAsEscapes() {
    assertThat(Terminal.safe("x\u001b[2J\u001b[31mPWNED")).isEqualTo("x\\e[2J\\e[31mPWNED");
    assertThat(Terminal.safe("a\u0007b\u009bc\u202ed")).isEqualTo("a\\x07b\\x9bc\\u202ed");
    assertThat(Terminal.safe("plain job-1 ünïcode")).isEqualTo("plain job-1 ünïcode");
  }

  @Test
  void hintsQuoteNamesSoAShellRunsNothing() {
    assertThat(Terminal.shellQuote("job-1")).isEqualTo("job-1");
    assertThat(Terminal.shellQuote("x; rm -rf ~")).isEqualTo("'x; rm -rf ~'");
    assertThat(Terminal.shellQuote("it's $(id)")).isEqualTo("'it'\\''s $(id)'");
    assertThat(Terminal.shellQuote("--help")).isEqualTo("'--help'");
  }
}
