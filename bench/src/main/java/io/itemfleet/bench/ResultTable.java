package io.itemfleet.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The table a benchmark run prints: one row per measurement, ours beside the raw baseline. */
final class ResultTable {
  /** One measured row. */
  record Row(String benchmark, String ours, String baseline, String ratio, String target) {}

  /** Rows in the order measured. */
  private final List<Row> rows = new ArrayList<>();

  void add(String benchmark, String ours, String baseline, String ratio, String target) {
    rows.add(new Row(benchmark, ours, baseline, ratio, target));
  }

  static String rate(double perSecond) {
    return String.format(Locale.ROOT, "%,.0f/s", perSecond);
  }

  static String ratio(double r) {
    return String.format(Locale.ROOT, "%.2f", r);
  }

  /** The median ratio with every round's, e.g. {@code 0.52× (rounds: 0.52, 0.59, 0.51)}. */
  static String ratios(double[] perRound) {
    return ratio(median(perRound)) + "× (rounds: " + list(perRound) + ")";
  }

  /** The median efficiency with every round's, e.g. {@code efficiency 0.961 (rounds: 0.958, …)}. */
  static String efficiencies(double[] perRound) {
    String median = String.format(Locale.ROOT, "efficiency %.3f", median(perRound));
    if (perRound.length == 1) return median;
    StringBuilder sb = new StringBuilder(median).append(" (rounds: ");
    for (int i = 0; i < perRound.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", perRound[i]));
    }
    return sb.append(')').toString();
  }

  /** The median; the mean of the middle two for an even count. */
  static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static String list(double[] ratios) {
    StringBuilder sb = new StringBuilder();
    for (double r : ratios) {
      if (sb.length() > 0) sb.append(", ");
      sb.append(ratio(r));
    }
    return sb.toString();
  }

  /** Markdown, so it can be pasted into the README as is. */
  void print(PrintStream out) {
    out.println("| benchmark | ItemFleet | baseline | ratio / result | target |");
    out.println("|---|---:|---:|---:|---|");
    for (Row r : rows) {
      out.printf(
          "| %s | %s | %s | %s | %s |%n",
          r.benchmark(), r.ours(), r.baseline(), r.ratio(), r.target());
    }
  }
}
